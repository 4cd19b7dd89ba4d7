/**
 * Text-to-video benchmark (issue 33): how long "type a prompt → watch a clip" takes — one 16-frame 32×32 clip (and an
 * 8-frame one) from a caption at the shipped sampler settings (TEXT_TO_VIDEO_SAMPLING: DDIM steps, classifier-free
 * guidance with the caption and the null caption as one batch of 2) plus the autoencoder's decoder, against the same
 * model in tuned PyTorch eager (test/bench/peers/text_to_video.py: the twin in kernel/torch/nextframe_torch, same
 * config passed as JSON, same sampler; fp32, the tuned PyTorch environment of timing.ts). The peer is one long-lived
 * process; ours and its timed runs alternate in rounds so both see the same load on the shared machine; medians over
 * all rounds. The two must be the same model, or the bench throws: equal parameter counts, and the peer, loading our
 * weights (strict names and shapes), matches our forward on fixed inputs to 1e-4. Uses the shipped checkpoint when
 * present (else "t2v-xs" with random weights: the same cost). Peers skip cleanly without torch.
 *
 * Env: VIDEO_BENCH_ROUNDS (default 3), VIDEO_BENCH_THREADS (default 2, both sides).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setDevice, tensor } from "../../kernel/nextframe/engine/index";
import { Autoencoder } from "../../kernel/nextframe/models/autoencoder";
import { TEXT_TO_VIDEO_SAMPLING, TextToVideoDiT, TextToVideoSampler, captionTokens } from "../../kernel/nextframe/models/textToVideo";
import { saveSafetensors, loadSafetensors } from "../../kernel/nextframe/io/safetensors";
import type { Module } from "../../kernel/nextframe/nn/index";
import { checkpointsDir, loadAutoencoder } from "../../kernel/nextframe/course/index";
import { generateClips, loadTextToVideo } from "../../kernel/nextframe/course/textToVideo";
import { TorchPeer, emit, interleave, nudgedCopy, runs } from "./timing";

const here = typeof __dirname !== "undefined" ? __dirname : dirname(fileURLToPath(import.meta.url));
const PEER = join(here, "peers", "text_to_video.py");

async function save(m: Module, path: string): Promise<void> {
  const entries = await Promise.all(Object.entries(m.stateDict()).map(async ([k, t]) => [k, { shape: t.shape, data: (await t.data()) as Float32Array }] as const));
  saveSafetensors(path, Object.fromEntries(entries));
}

/**
 * Max |ours − peer| of the forward on fixed inputs (a caption, the null caption), on a copy of the model with every
 * trainable weight nudged: fresh adaLN-Zero weights output 0, which would make any two models agree.
 */
async function parity(peer: TorchPeer, source: TextToVideoDiT, dir: string): Promise<number> {
  const model = nudgedCopy(source, () => new TextToVideoDiT(source.config));
  const w = join(dir, "nudged.safetensors"), i = join(dir, "in.safetensors"), o = join(dir, "out.safetensors");
  await save(model, w);
  const shape = [2, 16, 4, 16, 16], n = shape.reduce((a, b) => a * b, 1), L = model.config.textLength;
  const x = Float32Array.from({ length: n }, (_, k) => 0.5 * Math.sin(0.37 * k));
  const cap = captionTokens(model.config, ["a red ball bounces in a room. the agent walks left. the camera pans.", null]);
  saveSafetensors(i, { x: { shape, data: x }, t: { shape: [2], data: Float32Array.of(500, 900) }, caption: { shape: [2, L], data: BigInt64Array.from(cap, BigInt) } });
  await peer.ask(`parity ${w} ${i} ${o}`);
  const theirs = loadSafetensors(o).tensors.get("out")!.data as Float32Array;
  const ours = (await model.forward(tensor(x, { shape }), tensor(Float32Array.of(500, 900), { shape: [2] }), tensor(cap, { dtype: "int32", shape: [2, L] })).data()) as Float32Array;
  let m = 0;
  for (let k = 0; k < ours.length; k++) m = Math.max(m, Math.abs(ours[k]! - theirs[k]!));
  return m;
}

export async function main(): Promise<void> {
  const threads = Number(process.env.VIDEO_BENCH_THREADS ?? 2), rounds = Number(process.env.VIDEO_BENCH_ROUNDS ?? 3);
  await setDevice("cpu", { threads });
  const dir = checkpointsDir();
  const shipped = existsSync(join(dir, "text-to-video.safetensors")) && existsSync(join(dir, "autoencoder.safetensors"));
  const model = shipped ? loadTextToVideo(dir) : new TextToVideoDiT("t2v-xs");
  const ae = shipped ? loadAutoencoder(dir) : new Autoencoder({ name: "ae-32-f2" });
  const name = shipped ? "text-to-video (shipped)" : "t2v-xs (random weights)";
  const started = await TorchPeer.start(PEER, ["serve", "--model", JSON.stringify(model.config), "--ae", JSON.stringify(ae.config), "--threads", String(threads)]);
  const peer = typeof started === "string" ? null : started;
  const skip = typeof started === "string" ? started : "";
  const tmp = mkdtempSync(join(tmpdir(), "nf-video-bench-"));
  try {
    const ours = { model_params: model.numParameters({ trainableOnly: true }), decoder_params: ae.decoder.numParameters({ trainableOnly: true }) };
    if (peer) {
      const theirs = await peer.ask("params");
      emit({ bench: "text-to-clip-params", case: name, ours, peer: "pytorch", peer_params: { model_params: theirs.model_params, decoder_params: theirs.decoder_params } });
      if (theirs.model_params !== ours.model_params || theirs.decoder_params !== ours.decoder_params) throw new Error(`video bench: the PyTorch peer is not the same model: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
      const d = await parity(peer, model, tmp);
      emit({ bench: "text-to-clip-parity", case: name, peer: "pytorch", max_abs_diff: d });
      if (!(d < 1e-4)) throw new Error(`video bench: the PyTorch peer computes something else: max |ours − peer| ${d} (expected < 1e-4)`);
      await save(model, join(tmp, "w.safetensors"));
      await save(ae, join(tmp, "ae.safetensors"));
      await peer.ask(`load ${join(tmp, "w.safetensors")} ${join(tmp, "ae.safetensors")}`);
    } else emit({ bench: "text-to-clip-params", case: name, ours, peer: "pytorch", skipped: skip });

    const sampler = new TextToVideoSampler(model);
    const steps = TEXT_TO_VIDEO_SAMPLING.steps, caption = "a red ball bounces in a room. the agent walks left.";
    for (const frames of [16, 8]) {
      const one = () => generateClips(sampler, ae, [caption], { frames, steps, guidance: TEXT_TO_VIDEO_SAMPLING.guidance });
      await one();
      const r = await interleave(rounds, 2, runs(one), peer && (async (k) => (await peer.ask(`sample ${frames} ${steps} ${k}`)).times));
      const base = { bench: "text-to-clip", case: `${frames}x32x32`, ours_s: r.ours, model: name, ddim_steps: steps, guidance: TEXT_TO_VIDEO_SAMPLING.guidance, threads, peer: "pytorch" };
      if (r.peer !== null) emit({ ...base, peer_s: r.peer, ratio: r.peer / r.ours });
      else emit({ ...base, skipped: r.error ? `peer failed: ${r.error}` : skip });
    }
  } finally {
    peer?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
