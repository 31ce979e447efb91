/**
 * In-memory limits of one process: sign-in throttling (failures per email and per IP with an
 * exponential lock) and token buckets for per-credential request rates. Both are bounded in
 * memory: entries are pruned once they no longer matter and the tables have a hard size cap, so
 * a flood of distinct emails or IPs cannot grow them without end. With several processes each
 * one limits on its own (documented in docs/security.md).
 */

export interface LoginThrottleOptions {
  /** Failures per email before it is locked. */
  emailFailures: number;
  /** Failures per IP address before it is locked (higher: offices share one address). */
  ipFailures: number;
  /** First lock, doubled by every further failure. */
  baseLockMs: number;
  maxLockMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  emailFailures: 5,
  ipFailures: 20,
  baseLockMs: 2_000,
  maxLockMs: 15 * 60_000,
  windowMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface FailureRecord {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly byEmail = new Map<string, FailureRecord>();
  private readonly byIp = new Map<string, FailureRecord>();
  private readonly options: LoginThrottleOptions;

  constructor(
    options: Partial<LoginThrottleOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_LOGIN_THROTTLE, ...options };
  }

  /** Milliseconds until a sign-in for this email from this IP may be tried; 0 when allowed. */
  lockedFor(email: string, ip: string): number {
    const now = this.now();
    const wait = (record: FailureRecord | undefined): number =>
      record ? Math.max(0, record.lockedUntil - now) : 0;
    return Math.max(wait(this.live(this.byEmail, email, now)), wait(this.live(this.byIp, ip, now)));
  }

  recordFailure(email: string, ip: string): void {
    const now = this.now();
    this.bump(this.byEmail, email, this.options.emailFailures, now);
    this.bump(this.byIp, ip, this.options.ipFailures, now);
  }

  /** A successful sign-in clears the email's failures (not the IP's: others may be guessing). */
  recordSuccess(email: string): void {
    this.byEmail.delete(email);
  }

  private live(
    table: Map<string, FailureRecord>,
    key: string,
    now: number,
  ): FailureRecord | undefined {
    const record = table.get(key);
    if (record && now - record.lastFailureAt > this.options.windowMs && now >= record.lockedUntil) {
      table.delete(key);
      return undefined;
    }
    return record;
  }

  private bump(
    table: Map<string, FailureRecord>,
    key: string,
    threshold: number,
    now: number,
  ): void {
    const record = this.live(table, key, now) ?? {
      failures: 0,
      lastFailureAt: now,
      lockedUntil: 0,
    };
    record.failures += 1;
    record.lastFailureAt = now;
    if (record.failures >= threshold) {
      const exponent = Math.min(record.failures - threshold, 30);
      record.lockedUntil =
        now + Math.min(this.options.baseLockMs * 2 ** exponent, this.options.maxLockMs);
    }
    // Re-insert so the Map's order is least recently failed first, then evict from the front.
    table.delete(key);
    table.set(key, record);
    while (table.size > this.options.maxEntries) {
      const oldest = table.keys().next();
      if (oldest.done) break;
      table.delete(oldest.value);
    }
  }
}

export interface RateLimitOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the largest burst allowed after a quiet period. */
  burst: number;
  maxEntries: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  ratePerSecond: 50,
  burst: 100,
  maxEntries: 100_000,
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by credential (API key id or user id). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: RateLimitOptions;

  constructor(
    options: Partial<RateLimitOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_RATE_LIMIT, ...options };
  }

  /** Takes one token: 0 when allowed, else the seconds until one is available (at least 1). */
  take(key: string): number {
    const now = this.now();
    const { ratePerSecond, burst } = this.options;
    const bucket = this.buckets.get(key) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(
      burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * ratePerSecond,
    );
    bucket.updatedAt = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evict();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond));
  }

  private evict(): void {
    // A bucket evicted early only starts full again: that errs on the side of availability.
    while (this.buckets.size > this.options.maxEntries) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}

/**
 * A bounded count of work in flight (appends to the store). Beyond the bound callers are told
 * to come back later instead of queueing: an unbounded queue would only turn overload into
 * timeouts and memory growth.
 */
export class InFlightGate {
  private active = 0;

  constructor(readonly capacity: number) {}

  get inFlight(): number {
    return this.active;
  }

  /** Takes a slot; false when all are taken. Every true must be paired with one release(). */
  tryAcquire(): boolean {
    if (this.active >= this.capacity) return false;
    this.active += 1;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active -= 1;
  }
}
