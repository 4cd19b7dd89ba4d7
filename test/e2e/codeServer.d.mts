// Types for codeServer.mjs (plain JavaScript so that `npm start` can load it before any TypeScript loader).
import type { ChildProcess } from "node:child_process";

export const CODE_SERVER_VERSION: string;
export const VSCODE_VERSION: string;
export const DEBIAN_BUILD_PACKAGES: string[];
export const projectRoot: string;
export const cacheDir: string;
export function missingDebianPackages(packages?: string[]): string[];
export function ensureDebianPackages(opts?: { allowApt?: boolean }): void;
export function codeServerBin(): string;
export function ensureCodeServer(opts?: { allowApt?: boolean }): string;
export function freePort(): Promise<number>;
export function extensionIdentity(extensionPath?: string): { publisher: string; name: string; version: string; id: string };
export function linkExtension(extensionsDir: string, extensionPath?: string): string;
export function installExtension(vsix: string, stateDir: string): void;

export interface StartOptions {
  /** workspace folder to open */
  folder: string;
  /** where user data, extensions, config and XDG dirs go */
  stateDir: string;
  /** user settings.json contents */
  settings?: Record<string, unknown>;
  /** extension folder loaded through a symlink in the extensions folder (default: this project); false: none */
  extension?: string | false;
  port?: number;
  /** do not forward code-server's output to stderr */
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface CodeServer {
  url: string;
  port: number;
  dirs: { userData: string; extensions: string; config: string; xdgConfig: string; xdgData: string };
  child: ChildProcess;
  /** the last ~100 kB of code-server's stdout and stderr */
  readonly output: string;
  /** kills code-server's process group (extension host and kernels included) */
  stop(): Promise<void>;
}

export function startCodeServer(opts: StartOptions): Promise<CodeServer>;
