// HTTP port: the server behind the portal, and the client the uplink uses
// (over TLS with a pinned CA and a client certificate).

export interface HttpRequest {
  method: string;
  /** Path and query, as sent ("/api/status?x=1"). */
  path: string;
  /** Header names in lower case. */
  headers: { [name: string]: string };
  body: Uint8Array | null;
}

export interface HttpResponse {
  status: number;
  headers: { [name: string]: string };
  body: string | Uint8Array;
}

/**
 * Handles one request. Synchronous, as the device's HTTP server asks for the
 * response in a callback; work that takes longer answers 202 and is polled.
 */
export type HttpHandler = (request: HttpRequest) => HttpResponse;

export interface HttpServer {
  close(): void;
}

export interface TlsOptions {
  /** The CA certificate that must have signed the server's (DER). No "insecure" switch exists. */
  ca: Uint8Array;
  /** The device's client certificate and RSA private key (DER), for mutual TLS. */
  certificate?: Uint8Array;
  key?: Uint8Array;
}

export interface ClientRequest {
  url: string;
  method: string;
  headers: { [name: string]: string };
  body?: Uint8Array | string;
  tls?: TlsOptions;
  /** Gives up after this many ms. */
  timeout: number;
}

export interface ClientResponse {
  status: number;
  headers: { [name: string]: string };
  body: Uint8Array;
}

export interface HttpPort {
  /** Serves requests on `port` (80 on the device). */
  serve(port: number, handler: HttpHandler): HttpServer;
  /** Sends one request; rejects on network or TLS failure. */
  request(request: ClientRequest): Promise<ClientResponse>;
}
