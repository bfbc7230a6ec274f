/**
 * Runs an async job one at a time (the restart pattern of ruff-vscode): a call made while the job runs does not
 * start a second run alongside; it queues one more run after the current one, however many calls arrive meanwhile,
 * so the last call's view of the world (settings, trust) always gets a run that starts after it.
 *
 * Pure: no vscode import, unit-tested under plain Node.
 */
export class OneAtATime {
  private inFlight: Promise<void> | undefined;
  private queued = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly cancelled: () => boolean = () => false,
  ) {}

  get running(): boolean {
    return this.inFlight !== undefined;
  }

  /** Resolves when a run that started after this call has finished. Rejects if the job rejects. */
  run(): Promise<void> {
    if (this.inFlight !== undefined) {
      this.queued = true;
      return this.inFlight;
    }
    const loop = async (): Promise<void> => {
      do {
        this.queued = false;
        await this.job();
        // Read through a method: the flag is set by calls made while the job awaited.
      } while (this.again());
    };
    this.inFlight = loop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private again(): boolean {
    return this.queued && !this.cancelled();
  }
}
