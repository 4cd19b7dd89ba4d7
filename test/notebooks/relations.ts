/**
 * What each chapter's measured values must satisfy, stated as relations between the values the notebooks expose
 * with `claim(name, value)` — never as re-typed numbers. Used by claims.test.ts (on the saved outputs) and
 * notebooks.test.ts (on a fresh run).
 */
import { claimsFromOutputs, type Claim } from "../../kernel/nextframe/display/claims";
import type { Notebook } from "./notebook";

export interface Relation {
  /** What the course claims, in words (shown when the relation fails). */
  says: string;
  holds: (c: (name: string) => number) => boolean;
}

/** Chapter file prefix ("02") → relations. A chapter that does not exist yet is skipped. */
export const RELATIONS: Record<string, Relation[]> = {
  "02": [
    { says: "patchify → unpatchify is exact in 2D", holds: (c) => c("roundtrip_max_err_2d") === 0 },
    { says: "the layout matters: a channel-major inverse does not round-trip", holds: (c) => c("wrong_layout_max_err_2d") > 0.1 },
    { says: "spacetime (3D) patches round-trip exactly", holds: (c) => c("roundtrip_max_err_3d") === 0 },
    { says: "a 32×32 frame with p = 8 is (32/8)² tokens", holds: (c) => c("patch_tokens_32px_p8") === (32 / 8) ** 2 },
    { says: "2×4×4 tubelets of a 16-frame 32×32 clip: (16/2)·(32/4)² tokens", holds: (c) => c("tokens_3d_t2_p4") === (16 / 2) * (32 / 4) ** 2 },
    { says: "patch tokens are more local than a naive reshape, in every frame of the clip", holds: (c) => c("token_variance_patch") < c("token_variance_naive") && c("token_variance_ratio_min") > 1 },
    { says: "the projector is < 0.1 % of DiT-XL/2", holds: (c) => c("projector_share_xl2") < 1e-3 && c("projector_params_xl2") === 2 * 2 * 4 * 1152 + 1152 },
  ],
  "03": [
    { says: "full attention costs more MACs than factorised at 16 frames", holds: (c) => c("gmacs_full_f16") > c("gmacs_factorised_f16") },
    { says: "measured: full attention is slower than factorised at 32 frames", holds: (c) => c("attn_ms_full_f32") > c("attn_ms_factorised_f32") },
    { says: "measured, beyond the run-to-run spread: the median factorised run beats the fastest of the full runs at 32 frames (a median is robust to one stalled run on a busy machine)", holds: (c) => c("attn_ms_factorised_f32") < c("attn_ms_full_f32_min") },
    { says: "the spatial head's ball patch attends to the ball far above uniform", holds: (c) => c("spatial_mass_on_ball") > 5 * c("spatial_mass_uniform") },
    { says: "the temporal head's ball query attends to the frames where the ball is at its place above uniform", holds: (c) => c("temporal_mass_on_ball_frames") > c("temporal_mass_uniform") },
    { says: "packing with the block mask equals running each image alone", holds: (c) => c("packed_vs_separate_max_err") < 1e-5 },
    { says: "without the mask the packed images leak into each other", holds: (c) => c("packed_nomask_max_err") > 1e-4 && c("packed_nomask_max_err") > 100 * c("packed_vs_separate_max_err") },
  ],
  "04": [
    { says: "the forward process destroys the signal as t grows", holds: (c) => c("forward_psnr_t100") > c("forward_psnr_t999") && c("alphabar_t999") < 1e-3 },
    { says: "at t = 50 the trained denoiser beats both baselines on held-out clips, the mean frame by 2×", holds: (c) => c("denoiser_val_loss_t50") < 0.5 * c("mean_frame_val_loss") && c("denoiser_val_loss_t50") < c("naive_val_loss_t50") },
    { says: "at t = 250 the trained denoiser beats both baselines", holds: (c) => c("denoiser_val_loss_t250") < c("mean_frame_val_loss") && c("denoiser_val_loss_t250") < c("naive_val_loss_t250") },
    { says: "at t = 50, 250 and 500 the denoiser beats the mean frame beyond the noise: the gap's 95 % bootstrap interval (over held-out clips) lies below zero", holds: (c) => [50, 250, 500].every((t) => c(`gap_vs_mean_t${t}_hi`) < 0) },
    { says: "at no noise level does the denoiser lose to the mean frame beyond the noise", holds: (c) => [50, 250, 500, 750, 950].every((t) => c(`gap_vs_mean_t${t}_lo`) < 0) },
    { says: "at t = 950 the denoiser and the mean frame are tied: the interval includes zero", holds: (c) => c("gap_vs_mean_t950_lo") < 0 && c("gap_vs_mean_t950_hi") > 0 },
    { says: "the less noise, the better the denoiser: t = 250 beats t = 950", holds: (c) => c("denoiser_val_loss_t250") < c("denoiser_val_loss_t950") },
    { says: "DDIM with 50 steps is closer to the exact sampler than with 5", holds: (c) => c("ddim_psnr_50") > c("ddim_psnr_5") },
    { says: "even 5 DDIM steps beat the mean-frame baseline", holds: (c) => c("ddim_psnr_5") > c("mean_frame_psnr_vs_ref") },
    { says: "DDIM-50 and DDPM-1000 samples are nearer to a real frame than the mean frame is, beyond their intervals", holds: (c) => c("nn_dist_ddim50_hi") < c("nn_dist_mean_frame") && c("nn_dist_ddpm1000_hi") < c("nn_dist_mean_frame") },
    { says: "DDPM-1000 samples sit nearer to training frames than frames of new clips do (simplified frames, not new scenes)", holds: (c) => c("nn_dist_ddpm1000_hi") < c("nn_dist_real_lo") },
  ],
  "05": [
    { says: "adaLN-Zero: a fresh DiT block is exactly the identity", holds: (c) => c("adaln_zero_identity_err") === 0 && c("adaln_random_identity_err") > 0 },
    { says: "Gflops match the paper's Table 4 within 1 % for all 12 configs", holds: (c) => c("gflops_max_rel_err") < 0.01 },
    { says: "parameters match the paper's Table 1 within 1 % (beyond rounding)", holds: (c) => c("params_max_rel_err") < 0.01 },
    { says: "the complexity formula counts the real module's parameters", holds: (c) => c("params_s8_module") === c("params_s8_formula") },
    { says: "width 64 beats width 32 in every seed (the worst 64 below the best 32)", holds: (c) => c("scaling_loss_w64_max") < c("scaling_loss_w32_min") && c("scaling_gflops_w96") > c("scaling_gflops_w32") },
    { says: "width 32 is bottlenecked, not unconverged: every seed stays above the floor 1 − 32/(p·p·C), and three times the steps leave it above the floor and over twice width 64's worst seed", holds: (c) => c("scaling_loss_w32_min") > c("bottleneck_floor_w32") && c("scaling_loss_w32_3x") > c("bottleneck_floor_w32") && c("scaling_loss_w32_3x") > 2 * c("scaling_loss_w64_max") },
    { says: "past the bottleneck, the 64 → 96 gap is smaller than the spread across seeds (so no win is claimed)", holds: (c) => Math.abs(c("scaling_loss_w64") - c("scaling_loss_w96")) < Math.max(c("scaling_loss_w64_max") - c("scaling_loss_w64_min"), c("scaling_loss_w96_max") - c("scaling_loss_w96_min")) },
  ],
  // ── course part B: chapters 1, 6, 7, 8 ──────────────────────────────────────────────────────────
  "01": [
    { says: "the tiny GPT beats the bigram, which beats the unigram (held-out loss)", holds: (c) => c("gpt_val_loss") < c("bigram_val_loss") && c("bigram_val_loss") < c("unigram_val_loss") },
    { says: "sentences the GPT writes are legal moves more often than a bigram writer's", holds: (c) => c("gpt_legal_rate") > c("bigram_legal_rate") },
    { says: "the token embeddings group words by kind: numbers, objects and directions are more alike within a kind than across kinds", holds: (c) => c("emb_cos_same_kind") > c("emb_cos_other_kind") + 0.2 },
    { says: "a linear probe reads what the agent holds above chance and above random-init GPTs", holds: (c) => c("probe_acc") > c("probe_chance") && c("probe_acc") > c("probe_random_init") },
    { says: "the position probe (x/y, never written after the header) beats chance and every random-init GPT in every split", holds: (c) => c("probe_pos_acc_min") > c("probe_pos_chance_max") && c("probe_pos_acc_min") > c("probe_pos_random_init_max") },
    { says: "the random-init GPTs read the position at chance (within 0.03), and the trained one is right for only about half of the words (< 0.6)", holds: (c) => Math.abs(c("probe_pos_random_init") - c("probe_pos_chance")) < 0.03 && c("probe_pos_acc") < 0.6 },
    { says: "character tokens make longer sequences than word tokens", holds: (c) => c("tokens_per_episode_char") > c("tokens_per_episode_word") },
    { says: "a head retrieves the picked-up object: > 10× the uniform attention share", holds: (c) => c("attn_obj_mass_best_head") > 10 * c("attn_obj_mass_uniform") },
  ],
  "06": [
    { says: "recaptioning gives every clip a rich caption (coverage up)", holds: (c) => c("recap_coverage_after") > c("recap_coverage_before") && c("recap_coverage_after") === 1 },
    { says: "recaptioned captions are closer to the truth than the carried ones (word F1)", holds: (c) => c("recap_f1_latent") > c("recap_f1_before") },
    { says: "the latent neighbour is no better than a random donor: fewer agent actions right on average, and the gap's 95 % bootstrap interval includes zero", holds: (c) => c("recap_agent_latent") < c("recap_agent_random") && c("recap_agent_gap_lo") < 0 && c("recap_agent_gap_hi") > 0 },
    { says: "no donor gets the balls right for even 10 % of the weak clips", holds: (c) => Math.max(c("recap_balls_latent"), c("recap_balls_pixels"), c("recap_balls_random")) < 0.1 },
    { says: "the prompt expander brings prompts closer to the true caption than the raw prompt, on every test clip", holds: (c) => c("prompt_f1_expanded") > c("prompt_f1_raw") && c("prompt_expanded_wins") === 1 },
    { says: "the caption-agreement metric is right on real frames", holds: (c) => c("cfg_agreement_real") === 1 },
    { says: "conditioning (s = 1) beats the unconditional model in every seed and chance on average; unconditional samples land below chance", holds: (c) => c("cfg_s1_gain_min") > 0 && c("cfg_agreement_s1") > 1 / 6 && c("cfg_agreement_uncond") < 1 / 6 },
    { says: "guidance s = 2 beats s = 1 in every seed", holds: (c) => c("cfg_s2_gain_min") > 0 },
    { says: "the gain stops: s = 4 adds less over s = 2 than s = 2 did over s = 1 (and s = 4 still beats s = 1)", holds: (c) => c("cfg_agreement_s4") - c("cfg_agreement_s2") < c("cfg_agreement_s2") - c("cfg_agreement_s1") && c("cfg_agreement_s4") > c("cfg_agreement_s1") },
    { says: "text → video: clips agree with their captions more than the same model's null-caption clips (card, 3 seeds)", holds: (c) => c("t2v_agreement_model") > c("t2v_agreement_null") },
    { says: "…but the training clip with the nearest caption agrees more, on held-out combinations too: the model does not compose at this scale", holds: (c) => c("t2v_agreement_retrieval") > c("t2v_agreement_model") && c("t2v_heldout_retrieval") > c("t2v_heldout_model") },
  ],
  "07": [
    { says: "the world model beats copy-last at every horizon 1–8 (PSNR)", holds: (c) => c("wm_beats_copylast_horizons") === c("horizons") && c("horizons") === 8 },
    { says: "the world model beats linear extrapolation and copy-last through the autoencoder at every horizon 1–8 (PSNR)", holds: (c) => c("wm_beats_linear_horizons") === c("horizons") && c("wm_beats_latentcopy_horizons") === c("horizons") },
    { says: "its margin over copy-last is largest one frame ahead and shrinks with the horizon", holds: (c) => c("wm_psnr_h1") - c("copylast_psnr_h1") > c("wm_psnr_h8") - c("copylast_psnr_h8") },
    { says: "copy-last is a strong baseline: above the autoencoder's own reconstruction at h = 1", holds: (c) => c("copylast_psnr_h1") > c("ae_recon_psnr_h1") },
    { says: "copy-last through the autoencoder (no anchoring) falls below plain copy-last", holds: (c) => c("latentcopy_psnr_h1") < c("copylast_psnr_h1") && c("latentcopy_psnr_h8") < c("copylast_psnr_h8") },
    { says: "the learned local linear rule comes closest: above copy-last at h = 1, above every other baseline at h = 8", holds: (c) => c("local_psnr_h1") > c("copylast_psnr_h1") && c("local_psnr_h8") > Math.max(c("copylast_psnr_h8"), c("linear_psnr_h8"), c("latentcopy_psnr_h8")) },
    { says: "the world model beats the learned local linear rule at every horizon, and the 95 % bootstrap intervals over clips (h = 1 and 8) lie above 0", holds: (c) => c("wm_beats_local_horizons") === c("horizons") && c("wm_vs_local_h1_lo") > 0 && c("wm_vs_local_h8_lo") > 0 },
    { says: "the margins over copy-last at h = 1 and 8 are outside the bootstrap noise", holds: (c) => c("wm_vs_copylast_h1_lo") > 0 && c("wm_vs_copylast_h8_lo") > 0 && c("wm_vs_copylast_h1_hi") >= c("wm_vs_copylast_h1_lo") },
    { says: "permanence is measured on real occlusion events", holds: (c) => c("perm_events") > 0 },
    { says: "permanence did not emerge: the model brings hidden balls back no more often than the best baseline, while the truth through the autoencoder does", holds: (c) => c("perm_model_correct") <= Math.max(c("perm_copylast_correct"), c("perm_linear_correct")) && c("perm_oracle_correct") > c("perm_model_correct") },
    { says: "at least half of the occlusions last the model's context K or longer", holds: (c) => 2 * c("perm_events_beyond_context") >= c("perm_events") && c("context_frames") === 7 },
    { says: "the bite: the model keeps it no more often than copy-last, and even the ceiling keeps it in only about half of the frames (under two thirds)", holds: (c) => c("persist_frames") > 0 && c("persist_model") <= c("persist_copylast") && c("persist_oracle") < 2 / 3 && c("persist_oracle") > c("persist_model") },
    { says: "in play, the playable model follows held keys and separates left from right where copy-last never does, and more often than the course's world model", holds: (c) => c("play_follow_rate") > Math.max(c("play_copylast_follow_rate"), c("play_course_model_follow_rate")) && c("play_lr_separation") > Math.max(c("play_copylast_lr_separation"), c("play_course_model_lr_separation")) && c("play_agent_error_ratio") < 1 },
    { says: "the play targets are not met: it follows fewer than 90 % of held keys, and after 64 random keys its frames keep the world's colours less than copy-last's (below 0.97) and it has lost the agent in some clips (kept in fewer than 90 %)", holds: (c) => c("play_follow_rate") < 0.9 && c("play_palette_64") < Math.min(0.97, c("play_copylast_palette_64")) && c("play_agent_64") < 0.9 },
  ],
  "07b": [
    { says: "re-emergence from true context is scored on occlusions shorter than the context, where copy-last cannot show the ball", holds: (c) => c("reem_within_context") > 0 && c("reem_copylast_correct") === 0 },
    { says: "from its K-frame window the model brings back no more balls than the best baseline, and draws less of the ball than linear extrapolation", holds: (c) => c("reem_model_correct") <= Math.max(c("reem_copylast_correct"), c("reem_linear_correct")) && c("reem_model_strength") < c("reem_linear_strength") },
    { says: "the hand-written last-sighting rule gets fewer than half of the short re-emergences right", holds: (c) => 2 * c("reem_tracker_correct") < c("reem_within_context") },
    { says: "the latent space is not the limit: the truth through the autoencoder brings every re-emerging ball back, and puts moving balls within 0.5 px", holds: (c) => c("reem_oracle_correct") === c("reem_within_context") && c("motion_ball_oracle_err") < 0.5 },
    { says: "appearanceStrength reads copy-last as 0 and the ceiling as most of the ball", holds: (c) => c("reem_copylast_strength") === 0 && c("reem_oracle_strength") > 0.5 },
    { says: "the memory experiment scores every re-emergence its 24-frame reach covers: at least the short ones, where copy-last still cannot show the ball", holds: (c) => c("reem_mem_events") >= c("reem_within_context") && c("reem_mem_copylast_correct") === 0 },
    { says: "a ball is usually last seen in full more than K frames before it comes out: beyond the recent window", holds: (c) => c("sighting_gap_median") > c("context_frames") },
    { says: "the memory's frames hold the ball: the last-sighting rule reading the same frames draws it in most re-emergences", holds: (c) => 2 * c("reem_mem_tracker_found") > c("reem_mem_events") },
    { says: "memory alone does not do it: the memory model draws the ball in fewer re-emergences than linear extrapolation gets right, with the same next-latent error as without memory (within 0.02)", holds: (c) => c("reem_mem_model_found") < c("reem_mem_linear_correct") && Math.abs(c("nl_ratio_mem") - c("nl_ratio_nomem")) < 0.02 },
    { says: "the world model moves the agent, which the action drives, closer to the truth than copy-last and the local linear rule (4 frames ahead)", holds: (c) => c("motion_agent_model_err") < c("motion_agent_copylast_err") && c("motion_agent_model_err") < c("motion_agent_local_err") },
    { says: "the world model moves the balls closer to the truth than copy-last, by a smaller share than the agent", holds: (c) => c("motion_ball_model_err") < c("motion_ball_copylast_err") && c("motion_ball_model_err") / c("motion_ball_copylast_err") > c("motion_agent_model_err") / c("motion_agent_copylast_err") },
    { says: "in one step the world model removes more of copy-last's latent error than the local linear rule, on training and on held-out clips", holds: (c) => c("latent_err_ratio_train") < c("latent_err_ratio_local_train") && c("latent_err_ratio_val") < c("latent_err_ratio_local_val") && c("latent_err_ratio_local_val") < 1 },
    { says: "it does not read its noisy input: given the true next latent at t = 10 its error is within 10 % of the pure-noise one; most diffusion steps' noise exceeds the frame-to-frame change; 4 DDIM steps change PSNR at h = 8 by under 0.25 dB", holds: (c) => c("noisy_input_ratio_t10") > 0.9 * c("noisy_input_ratio_pure") && c("noise_drowns_change_frac") > 0.9 && Math.abs(c("psnr_h8_4steps") - c("psnr_h8_1step")) < 0.25 },
    { says: "full-gain extrapolation brings balls back but has the worst one-step error; the least-squares gain (well below 1) and the fitted models bring back fewer", holds: (c) => c("change_gain_lsq") < 0.8 && c("reem_gain1_correct") > Math.max(c("reem_gainfit_correct"), c("reem_local_correct"), c("reem_model_correct")) && c("latent_extrap_err_gain1") > Math.max(c("latent_extrap_err_gainfit"), c("latent_err_ratio_local_val"), c("latent_err_ratio_val")) },
    { says: "scaling the memory model's change by 1 / gain draws more of a re-emerging ball and brings more back than the model as trained", holds: (c) => c("change_scale") > 1 && c("reem_scaled_strength") > c("reem_mem_model_strength") && c("reem_scaled_correct") > c("reem_mem_model_correct") },
    { says: "the price: the scaled rollout falls below copy-last within 4 horizons, and in long rollouts draws balls more often than at the right place", holds: (c) => c("scaled_below_copylast_from") <= 4 && c("perm_scaled_correct") < c("perm_scaled_reappear") },
    { says: "fitted, the architecture carries a hidden ball: on its own 8 training clips the memorizer brings most balls back, in long rollouts (where both baselines get none) and from true context (more than linear extrapolation and the memory model)", holds: (c) => c("memo_own_perm_correct") > 0.5 && c("memo_own_perm_copylast") === 0 && c("memo_own_perm_linear") === 0 && 2 * c("memo_own_reem_correct") > c("memo_own_reem_events") && c("memo_own_reem_correct") > Math.max(c("memo_own_reem_linear_correct"), c("memo_own_reem_mem_correct")) && c("memo_own_reem_strength") > 0.5 },
    { says: "the memorizer fits its clips (next-latent error under half of what the 1024-clip memory model reaches on the same clips), and what it fitted does not transfer (held-out: worse than copy-last, far fewer balls back than on its own clips)", holds: (c) => c("memo_own_nl_ratio") < c("memo_own_nl_ratio_mem") / 2 && c("memo_held_nl_ratio") > 1 && c("memo_held_reem_correct") <= c("memo_own_reem_correct") / 3 },
    { says: "the memory model fits the memorizer's eight clips no better than new ones", holds: (c) => c("memo_own_nl_ratio_mem") >= c("nl_ratio_mem") },
  ],
  "08": [
    { says: "the true simulator's counterfactual futures separate, unlike an action-blind predictor's (the test can tell)", holds: (c) => c("cf_truth_separates") > c("cf_action_blind") },
    { says: "the playable model (world-model-play) separates left from right in more of the clips where the truth does than an action-blind predictor, in a minority of them, far short of the five in six the target asks; its last frame loses the agent in a minority of rollouts", holds: (c) => c("cf_model_separates") > c("cf_action_blind") && c("cf_model_separates") < 0.5 && c("cf_model_separates_hi") >= c("cf_model_separates") && c("cf_model_agent_lost") < 0.5 },
    { says: "whole-frame probes read no depth (R² below 0.1); object-centred probes from latents, pixels and the world model's token all read it above chance, the token best and the pixels better than the latents (this run)", holds: (c) => Math.max(c("depth_r2_latents"), c("depth_r2_worldmodel"), c("depth_r2_pixels")) < 0.1 && c("depth_r2_latents_object") > 0 && c("depth_r2_worldmodel_object") > c("depth_r2_pixels_object") && c("depth_r2_pixels_object") > c("depth_r2_latents_object") },
    { says: "the surprise test has pairs of every kind", holds: (c) => c("surprise_teleport_pairs") > 0 && c("surprise_vanish_pairs") > 0 && c("surprise_wall_pairs") > 0 },
    { says: "teleports: the rule-breaking twin is more surprising in every pair, and the share's 95 % interval lies above a half", holds: (c) => c("surprise_teleport_more") === c("surprise_teleport_pairs") && c("surprise_teleport_share_lo") > 0.5 },
    { says: "vanishing: the lawful twin is more surprising in most pairs, but both intervals still reach chance", holds: (c) => 2 * c("surprise_vanish_more") < c("surprise_vanish_pairs") && c("surprise_vanish_share_hi") >= 0.5 && c("surprise_vanish_auc_hi") >= 0.5 },
    { says: "walls: the AUC is reversed with its bootstrap interval below 0.5, while the share of pairs' interval still reaches a half", holds: (c) => c("surprise_wall_auc") < 0.5 && c("surprise_wall_auc_hi") < 0.5 && c("surprise_wall_share_hi") >= 0.5 && c("surprise_wall_auc_lo") <= c("surprise_wall_auc") },
  ],
};

/** Every claim in a notebook's outputs, by name (a repeated name keeps the last value). */
export function notebookClaims(nb: Notebook): Map<string, Claim> {
  const m = new Map<string, Claim>();
  for (const cell of nb.cells) for (const c of claimsFromOutputs(cell.outputs ?? [])) m.set(c.name, c);
  return m;
}

/**
 * Checks a chapter's relations; returns one message per failure (missing claims included). A chapter with no
 * relations is a failure too: its claims would otherwise pass whatever they say.
 */
export function checkRelations(chapter: string, claims: Map<string, Claim>): string[] {
  const relations = RELATIONS[chapter] ?? [];
  if (relations.length === 0) return [`${chapter}: the chapter has no relations (add the relations its claims must satisfy to RELATIONS in test/notebooks/relations.ts)`];
  const failures: string[] = [];
  for (const r of relations) {
    const missing: string[] = [];
    const get = (name: string) => {
      const c = claims.get(name);
      if (!c) { missing.push(name); return NaN; }
      return c.value;
    };
    let ok = false;
    try { ok = r.holds(get); } catch (e) { failures.push(`${chapter}: "${r.says}" threw ${String(e)}`); continue; }
    if (missing.length) failures.push(`${chapter}: "${r.says}" — the notebook exposes no claim ${missing.join(", ")}`);
    else if (!ok) {
      const used: string[] = [];
      r.holds((n) => { used.push(`${n} = ${claims.get(n)!.value}`); return claims.get(n)!.value; });
      failures.push(`${chapter}: "${r.says}" does not hold (${used.join(", ")})`);
    }
  }
  return failures;
}

/** [name, value] of every exercise check's claim (checkExercise claims exercise_<name>_ok = 0 or 1). */
export function exerciseChecks(claims: Map<string, Claim>): [string, number][] {
  return [...claims.values()].filter((c) => /^exercise_[a-z0-9_]+_ok$/.test(c.name)).map((c) => [c.name, c.value]);
}
