// Types for scripts/prerequisites.mjs (plain JavaScript, so that it runs before `npm ci`).

export interface Probe { kind: 'command' | 'file' | 'mbedtls'; arg: string }
export interface SystemPackage { name: string; probes: Probe[]; why: string }
export interface MissingPackage extends SystemPackage { failed: Probe[] }
export interface InstallOptions { root?: boolean; apt?: boolean }

export const ROOT: string;
export const LIST: string;
export const SHARED_FILES: string[];
export function missingSharedFiles(root?: string): string[];
export function reportSharedFiles(files: string[]): string[];
export function parseSystemPackages(text: string, source?: string): SystemPackage[];
export function readSystemPackages(file?: string): SystemPackage[];
export function onPath(name: string, path?: string): string | null;
export function missingPackages(packages?: SystemPackage[], env?: NodeJS.ProcessEnv): MissingPackage[];
export function installCommand(names: string[], options?: InstallOptions): string;
export function report(missing: MissingPackage[], options?: InstallOptions): string[];
