// hashring ships no types; the benchmarks use only these.
declare module 'hashring' {
  export default class HashRing {
    constructor(servers: string[] | Record<string, number | { weight: number }>, algorithm?: string, options?: Record<string, unknown>);
    get(key: string): string;
    readonly ring: unknown[];
  }
}
