declare module 'lin-restart' {
  /** Replaces the mcsim process with a fresh one of the same command line (lin only). */
  export default function restart(): never;
}
