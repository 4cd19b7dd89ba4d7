import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Module, Parameter, Linear, LayerNorm, Embedding, Conv2d, ConvTranspose2d, Dropout, ModuleList, Sequential, GELU, init,
} from "./index.js";
import { F, Generator, randn, tensor, zeros, manualSeed, Tensor } from "../engine/index.js";

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
  const p = init.xavierUniform_(new Parameter(zeros([4, 6])));
  manualSeed(3);
  const q = init.xavierUniform_(new Parameter(zeros([4, 6])));
  assert.deepEqual(await p.data(), await q.data());
  const bound = Math.sqrt(6 / 10);
  assert.ok(Array.from(await p.data(), Number).every((v) => Math.abs(v) <= bound));
  assert.ok(p instanceof Tensor);
});

test("LayerNorm({ bias: false }) keeps the gain and drops the shift (nanoGPT's LayerNorm(ndim, bias))", async () => {
  const ln = new LayerNorm(4, { bias: false });
  assert.deepEqual(Object.keys(ln.stateDict()), ["weight"]);
  assert.equal(ln.bias, null);
  assert.deepEqual(Object.keys(new LayerNorm(4).stateDict()), ["weight", "bias"]);
  assert.deepEqual(Object.keys(new LayerNorm(4, { elementwiseAffine: false, bias: true }).stateDict()), []);
  ln.weight!.setData(Float32Array.of(1, 2, 3, 4));
  const x = randn([2, 4], { seed: 5 });
  assert.deepEqual(await ln.forward(x).data(), await F.layerNorm(x, 4, ln.weight, null).data());
});

test("ConvTranspose2d takes Conv2d's options object; weight (in, out, kh, kw); upsamples by the stride", async () => {
  const up = new ConvTranspose2d(3, 5, 4, { stride: 2, padding: 1 });
  assert.deepEqual(up.weight.shape, [3, 5, 4, 4]);
  assert.deepEqual(up.bias!.shape, [5]);
  assert.deepEqual(up.forward(zeros([2, 3, 8, 8])).shape, [2, 5, 16, 16]);
  assert.deepEqual(new ConvTranspose2d(3, 5, [3, 2], { stride: 2, outputPadding: 1 }).forward(zeros([1, 3, 4, 4])).shape, [1, 5, 10, 9]);
  // each input pixel stamps the kernel (times its value) into its stride-2 block, plus the bias
  const stamp = new ConvTranspose2d(1, 1, 2, { stride: 2 });
  stamp.weight.setData(Float32Array.of(1, 2, 3, 4));
  stamp.bias!.setData(Float32Array.of(0.5));
  assert.deepEqual(await stamp.forward(tensor([[[[1, 10]]]])).toArray(), [[[[1.5, 2.5, 10.5, 20.5], [3.5, 4.5, 30.5, 40.5]]]]);
  assert.equal(new ConvTranspose2d(2, 2, 3, { bias: false }).bias, null);
  // the positional form the autoencoder used before (in, out, k, stride, padding) is named, not read as stride 1
  assert.throws(() => new ConvTranspose2d(3, 5, 4, 2 as never), /ConvTranspose2d: the 4th argument is an options object like Conv2d's .*got 2/);
});

test("layers draw their init from opts.generator when given, else from the global generator", async () => {
  manualSeed(9);
  const global = [new Linear(4, 3), new Conv2d(2, 3, 3), new ConvTranspose2d(2, 3, 3), new Embedding(5, 2)];
  manualSeed(1);
  const g = new Generator(9);
  const own = [new Linear(4, 3, { generator: g }), new Conv2d(2, 3, 3, { generator: g }), new ConvTranspose2d(2, 3, 3, { generator: g }), new Embedding(5, 2, { generator: g })];
  for (const [i, m] of own.entries()) {
    for (const [k, t] of Object.entries(m.stateDict())) assert.deepEqual(await t.data(), await global[i]!.stateDict()[k]!.data(), k);
  }
  const next = await randn([3]).data();
  manualSeed(1);
  assert.deepEqual(next, await randn([3]).data(), "the global generator was not advanced");
});
