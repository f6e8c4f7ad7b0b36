// An authoritative DNS server on 127.0.0.1 (dns2, UDP) whose records a test changes while it runs.
import dns2 from 'dns2';

const { Packet } = dns2;
// RFC 1035 §4.1.1 response codes (dns2 3.0's typings omit Packet.RCODE).
const SERVFAIL = 2;
const NXDOMAIN = 3;
type Answer = (typeof Packet.prototype.answers)[number];
const record = (name: string, type: number, address: string) => ({ name, type, class: Packet.CLASS.IN, ttl: 1, address }) as unknown as Answer;

export interface Records {
  a?: string[];
  aaaa?: string[];
}

export class TestDnsServer {
  /** name -> records; a name not here is NXDOMAIN. */
  readonly zone = new Map<string, Records>();
  /** Answer SERVFAIL to everything (a broken resolver path). */
  failing = false;
  /** Queries answered, by "name type". */
  readonly queries: string[] = [];
  port = 0;
  readonly #server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      this.queries.push(`${question.name} ${question.type}`);
      const records = this.zone.get(question.name.toLowerCase());
      if (this.failing) response.header.rcode = SERVFAIL;
      else if (records === undefined) response.header.rcode = NXDOMAIN;
      else if (question.type === Packet.TYPE.A) {
        for (const address of records.a ?? []) response.answers.push(record(question.name, Packet.TYPE.A, address));
      } else if (question.type === Packet.TYPE.AAAA) {
        for (const address of records.aaaa ?? []) response.answers.push(record(question.name, Packet.TYPE.AAAA, address));
      }
      void send(response);
    },
  });

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const addresses = await this.#server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    this.port = addresses.udp!.port;
    return this;
  }

  close(): Promise<void> {
    return this.#server.close();
  }
}
