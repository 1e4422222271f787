import type { AddressInfo } from 'node:net';

/** `http://host:port` of the address a server is bound to, as bound (`0.0.0.0` stays `0.0.0.0`; IPv6 in brackets). */
export function boundUrl(a: AddressInfo): string {
  return `http://${a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}

/** Whether a bound address accepts connections on every interface (`0.0.0.0`, `::`). */
export function isAllInterfaces(a: AddressInfo): boolean {
  return a.address === '0.0.0.0' || a.address === '::';
}

/** The start-up warning for a server every interface reaches without auth. */
export function exposureWarning(a: AddressInfo): string {
  return (
    `listening on all interfaces (${boundUrl(a)}) without an auth token: anyone who can reach port ${a.port} can call the models; ` +
    'set a token (--auth-token or $MLMODEL_AUTH_TOKEN) or bind one interface (--host 127.0.0.1)'
  );
}
