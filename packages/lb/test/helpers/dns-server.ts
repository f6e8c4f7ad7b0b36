// An authoritative DNS server on 127.0.0.1 (dns2, UDP) whose records a test changes while it runs.
import dns2 from 'dns2';

const { Packet } = dns2;

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
      if (this.failing) response.header.rcode = Packet.RCODE.SERVFAIL;
      else if (records === undefined) response.header.rcode = Packet.RCODE.NXDOMAIN;
      else if (question.type === Packet.TYPE.A) {
        for (const address of records.a ?? []) response.answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 1, address });
      } else if (question.type === Packet.TYPE.AAAA) {
        for (const address of records.aaaa ?? []) response.answers.push({ name: question.name, type: Packet.TYPE.AAAA, class: Packet.CLASS.IN, ttl: 1, address });
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
