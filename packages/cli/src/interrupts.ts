/**
 * SIGINT/SIGTERM while a long command runs (batch scoring, a cloud deploy): the first signal is
 * the command's to handle (stop, clean up, say what happened); a second one exits at once. Exit
 * codes are the ones shells report for those signals.
 */
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT;
}

export interface Interrupts {
  /** The first signal received, or null. */
  readonly received: NodeJS.Signals | null;
  /** Stop listening (call when the command ends). */
  dispose(): void;
}

/** Listen for SIGINT and SIGTERM until `dispose()`: `onFirst` gets the first, a second exits the process. */
export function catchInterrupts(onFirst: (sig: NodeJS.Signals) => void): Interrupts {
  let received: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals): void => {
    if (received !== null) process.exit(signalExitCode(sig));
    received = sig;
    onFirst(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
