import { test } from "node:test";
import assert from "node:assert/strict";
import { Module, Parameter, Linear, LayerNorm, Embedding, Conv2d, Dropout, ModuleList, Sequential, GELU, xavierUniform_ } from "./index.js";
import { randn, tensor, zeros, manualSeed, Tensor } from "../engine/index.js";

class Attn extends Module {
  qkv = new Linear(8, 24);
  proj = new Linear(8, 8, { bias: false });
}
class Block extends Module {
  norm1 = new LayerNorm(8, { elementwiseAffine: false });
  attn = new Attn();
  mlp = new Sequential(new Linear(8, 16), new GELU("tanh"), new Linear(16, 8));
}
class Net extends Module {
  embed = new Embedding(10, 8);
  blocks = new ModuleList([new Block(), new Block()]);
  head = new Linear(8, 3);
}

test("state-dict keys look like PyTorch's, in assignment order", () => {
  const keys = Object.keys(new Net().stateDict());
  assert.deepEqual(keys.slice(0, 6), [
    "embed.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight",
    "blocks.0.mlp.0.weight", "blocks.0.mlp.0.bias",
  ]);
  assert.ok(keys.includes("blocks.1.mlp.2.bias"));
  assert.ok(keys.includes("head.weight"));
  const net = new Net();
  assert.equal(net.numParameters(), 10 * 8 + 2 * (8 * 24 + 24 + 64 + 8 * 16 + 16 + 16 * 8 + 8) + 8 * 3 + 3);
});

test("loadStateDict copies values and lists all missing/extra/misshaped keys at once", async () => {
  const a = new Net(), b = new Net();
  b.loadStateDict(a.stateDict());
  assert.deepEqual(await b.head.weight.data(), await a.head.weight.data());
  const sd = a.stateDict();
  delete sd["head.bias"];
  sd["extra.weight"] = zeros([1]);
  sd["embed.weight"] = zeros([11, 8]);
  assert.throws(() => b.loadStateDict(sd), (e: Error) =>
    /missing keys \(1\): head\.bias/.test(e.message) && /unexpected keys \(1\): extra\.weight/.test(e.message) &&
    /embed\.weight: expected \[10, 8\], got \[11, 8\]/.test(e.message));
  delete sd["embed.weight"]; sd["embed.weight"] = a.embed.weight;
  const r = b.loadStateDict(sd, { strict: false });
  assert.deepEqual(r, { missing: ["head.bias"], unexpected: ["extra.weight"] });
});

test("layers compute the right shapes; dropout follows train/eval", async () => {
  manualSeed(0);
  const net = new Net();
  const x = net.embed.forward(tensor([[1, 2, 3]], { dtype: "int64" }));
  assert.deepEqual(x.shape, [1, 3, 8]);
  assert.deepEqual(net.blocks.at(0).mlp.forward(x).shape, [1, 3, 8]);
  const conv = new Conv2d(3, 4, 3, { padding: 1, stride: 2 });
  assert.deepEqual(conv.forward(randn([2, 3, 8, 8])).shape, [2, 4, 4, 4]);
  const d = new Dropout(0.5);
  const ones = tensor(new Float32Array(1000).fill(1));
  const y = Array.from(await d.forward(ones).data(), Number);
  assert.ok(y.every((v) => v === 0 || v === 2));
  const kept = y.filter((v) => v === 2).length;
  assert.ok(kept > 400 && kept < 600, `kept ${kept}`);
  d.eval();
  assert.equal(d.forward(ones), ones);
  net.eval();
  assert.equal(net.blocks.at(1).training, false);
});

test("Parameter requires concrete data; initialisers are seeded", async () => {
  assert.throws(() => new Parameter(randn([2]).mul(2)), /Parameter: the tensor \(shape \[2\]\) is lazy/);
  manualSeed(3);
  const p = xavierUniform_(new Parameter(zeros([4, 6])));
  manualSeed(3);
  const q = xavierUniform_(new Parameter(zeros([4, 6])));
  assert.deepEqual(await p.data(), await q.data());
  const bound = Math.sqrt(6 / 10);
  assert.ok(Array.from(await p.data(), Number).every((v) => Math.abs(v) <= bound));
  assert.ok(p instanceof Tensor);
});
