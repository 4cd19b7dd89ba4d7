/**
 * Learning-rate schedules: functions step → lr (0-based step), fed to the train step as a scalar input so
 * changing lr never recompiles.
 */

export interface CosineScheduleOptions { warmupSteps: number; totalSteps: number; maxLr: number; minLr?: number }

/**
 * Linear warmup to maxLr over warmupSteps, then cosine decay to minLr at totalSteps (constant after). warmupSteps may be
 * fractional (trainers use steps / 10); the warm-up never goes above maxLr (a 0.1-step warm-up starts at maxLr).
 */
export function cosineSchedule(o: CosineScheduleOptions): (step: number) => number {
  const minLr = o.minLr ?? 0;
  return (step) => {
    if (step < o.warmupSteps) return Math.min(o.maxLr, (o.maxLr * (step + 1)) / o.warmupSteps);
    if (step >= o.totalSteps) return minLr;
    const t = (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps);
    return minLr + 0.5 * (o.maxLr - minLr) * (1 + Math.cos(Math.PI * t));
  };
}
