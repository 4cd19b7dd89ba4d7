/** The trainer's command line: options, their errors, and the torchrun command --engine torch builds. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTrainArgs } from "./main";
import { TORCH_RECIPES, torchrunArgs } from "./torch";

test("parseTrainArgs reads the engine options and names what is wrong", () => {
  const a = parseTrainArgs(["world-model", "--engine", "torch", "--nproc", "4", "--device", "cuda", "--nnodes", "2", "--node-rank", "1", "--rdzv-endpoint", "n0:29500", "--resume", "--no-eval", "--steps", "10", "--batch-size", "32"]);
  assert.equal(a.engine, "torch");
  assert.equal(a.steps, 10);
  assert.deepEqual(a.torch, { nproc: 4, device: "cuda", nnodes: 2, nodeRank: 1, rdzvEndpoint: "n0:29500", rdzvId: "nextframe", resume: true, eval: false, batchSize: 32 });
  assert.equal(parseTrainArgs(["gpt-textworld"]).engine, "ts");
  assert.throws(() => parseTrainArgs(["world-model", "--nproc", "2"]), /--nproc applies only with --engine torch/);
  assert.throws(() => parseTrainArgs(["world-model", "--engine", "jax"]), /--engine must be ts or torch, got "jax"/);
  assert.throws(() => parseTrainArgs(["world-model", "--engine", "torch", "--device", "tpu"]), /--device must be cpu or cuda, got "tpu"/);
  assert.throws(() => parseTrainArgs(["world-model", "--engine", "torch", "--nproc", "0"]), /--nproc must be an integer ≥ 1, got "0"/);
  assert.throws(() => parseTrainArgs(["world-model", "--steps"]), /--steps must be an integer ≥ 1, got nothing/);
  assert.throws(() => parseTrainArgs(["world-model", "--engine", "torch", "--eval-only"]), /--eval-only runs the TypeScript evaluation/);
  assert.throws(() => parseTrainArgs(["dit"]), /unknown name "dit"/);
});

test("torchrunArgs: standalone on one node, a c10d rendezvous on several", () => {
  const base = { nproc: 2, device: "cpu" as const, nnodes: 1, rdzvId: "nf", resume: false, eval: true };
  assert.deepEqual(torchrunArgs(base, "/j.json"), ["-m", "nextframe_torch.launch", "--standalone", "--nnodes", "1", "--nproc_per_node", "2", "-m", "nextframe_torch.train", "--job", "/j.json"]);
  const multi = torchrunArgs({ ...base, nnodes: 3, nodeRank: 2, rdzvEndpoint: "h:1" }, "/j.json");
  assert.deepEqual(multi.slice(0, 12), ["-m", "nextframe_torch.launch", "--nnodes", "3", "--rdzv_backend", "c10d", "--rdzv_endpoint", "h:1", "--rdzv_id", "nf", "--node_rank", "2"]);
  // every recipe --engine torch knows is one the TypeScript trainer has
  for (const name of Object.keys(TORCH_RECIPES)) assert.doesNotThrow(() => parseTrainArgs([name, "--engine", "torch"]));
});
