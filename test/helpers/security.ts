/*
What the security tests share: an API on loopback (HTTP, HTTPS or HTTP/2) with a route for every way a request can end badly, a record of what each request carried, and the renderings of an error a caller is likely to log.
*/
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import {once} from 'node:events';
import http, {type IncomingMessage, type ServerResponse} from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type {AddressInfo, Socket} from 'node:net';
import {inspect} from 'node:util';
import type {ExecutionContext} from 'ava';
import {testPki} from './certificates.js';

export type Seen = {
	readonly path: string;
	readonly method: string;
	readonly authorization: string | undefined;
	readonly body: string;
};

export type RouteServer = {
	readonly origin: string;
	readonly port: number;
	/** Every request, in arrival order, with what it carried. */
	readonly seen: Seen[];
	url(path?: string): string;
	/** How many requests arrived with `Bearer <token>`, or with any bearer token starting with `token`. */
	received(token: string): number;
	close(): Promise<void>;
};

export type Protocol = 'http' | 'https' | 'http2';

type Send = (status: number, body?: string, headers?: Record<string, string>) => void;

function route(request: IncomingMessage, response: ServerResponse, url: URL, send: Send): void {
	const json = {'content-type': 'application/json'};
	switch (url.pathname) {
		case '/ok': {
			send(200, '{"ok":true}', json);
			break;
		}

		case '/echo': {
			// The key is absent when no authorization came.
			send(200, JSON.stringify({authorization: request.headers.authorization}), json);
			break;
		}

		case '/cacheable': {
			send(200, JSON.stringify({authorization: request.headers.authorization}), {...json, 'cache-control': 'max-age=60'});
			break;
		}

		case '/text': {
			send(200, 'this is not json');
			break;
		}

		case '/hang': {
			// Never answers: every abort and timeout comes first, however loaded the machine. close() ends it.
			break;
		}

		case '/drip': {
			// Headers and a first chunk now, the rest slowly: a stream can be aborted mid-body.
			response.writeHead(200, {'content-type': 'text/plain'});
			response.write('a'.repeat(100));
			const timer = setInterval(() => {
				response.write('b');
			}, 20);
			response.on('close', () => {
				clearInterval(timer);
			});
			break;
		}

		case '/reset': {
			// Promises 1000 bytes, sends 10, then drops the connection.
			response.writeHead(200, {'content-type': 'text/plain', 'content-length': '1000'});
			response.write('x'.repeat(10));
			setTimeout(() => {
				request.socket.destroy();
			}, 20);
			break;
		}

		case '/loop': {
			send(302, '', {location: '/loop'});
			break;
		}

		case '/redirect': {
			send(Number(url.searchParams.get('status') ?? 302), '', {location: url.searchParams.get('to')!});
			break;
		}

		case '/page': {
			// Page 1 links to page 2 (or to `next`, when given), which fails.
			const page = Number(url.searchParams.get('n') ?? 1);
			if (page >= 2) {
				send(500, 'page boom');
			} else {
				send(200, '[1,2]', {...json, link: `<${url.searchParams.get('next') ?? '/page?n=2'}>; rel="next"`});
			}

			break;
		}

		case '/last-page': {
			send(200, '[3]', json);
			break;
		}

		case '/401': {
			send(401, 'no', {'www-authenticate': 'Bearer error="invalid_token"'});
			break;
		}

		case '/403': {
			send(403, 'no', {'www-authenticate': 'Bearer error="insufficient_scope"'});
			break;
		}

		case '/500': {
			send(500, 'boom');
			break;
		}

		default: {
			send(404, 'missing');
		}
	}
}

/**
An API on 127.0.0.1. `http2` speaks HTTP/2 (and HTTP/1.1) over TLS; `https` and `http2` use a certificate from `testPki()`, whose `ca` the client must trust.
*/
export async function startRouteServer(protocol: Protocol = 'http'): Promise<RouteServer> {
	const seen: Seen[] = [];
	const sockets = new Set<Socket>();
	const handler = (request: IncomingMessage, response: ServerResponse): void => {
		const chunks: Uint8Array[] = [];
		request.on('data', (chunk: Uint8Array) => {
			chunks.push(chunk);
		});
		request.on('end', () => {
			const url = new URL(request.url ?? '/', 'http://route');
			seen.push({path: url.pathname + url.search, method: request.method ?? '', authorization: request.headers.authorization, body: Buffer.concat(chunks).toString()});
			const send: Send = (status, body = '', headers = {}) => {
				response.writeHead(status, {'content-type': 'text/plain', ...headers});
				response.end(body);
			};

			route(request, response, url, send);
		});
	};

	const pki = protocol === 'http' ? undefined : testPki();
	const tls = pki === undefined ? undefined : {key: pki.server.key, cert: pki.server.certificate};
	const server = protocol === 'http'
		? http.createServer(handler)
		: (protocol === 'https' ? https.createServer(tls!, handler) : http2.createSecureServer({...tls, allowHTTP1: true}, handler as never));
	const track = (socket: Socket): void => {
		sockets.add(socket);
		socket.on('close', () => {
			sockets.delete(socket);
		});
	};

	server.on('connection', track);
	server.on('secureConnection', track);
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const {port} = server.address() as AddressInfo;
	const origin = `${protocol === 'http' ? 'http' : 'https'}://127.0.0.1:${port}`;

	return {
		origin,
		port,
		seen,
		url: (path = '/') => new URL(path, origin).href,
		received: token => seen.filter(request => request.authorization?.startsWith(`Bearer ${token}`) === true).length,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/** Resolves once `server` has had `count` requests. */
export async function untilSeen(server: RouteServer, count = 1): Promise<void> {
	while (server.seen.length < count) {
		await new Promise(resolve => {
			setTimeout(resolve, 5);
		});
	}
}

/** The CA a client must trust to reach an `https` or `http2` route server. */
export const testCa = (): string => testPki().ca;

/**
Every rendering of an error a caller is likely to log: `String()`, `console.log` at any depth, the same with non-enumerable properties (which reach got's request and Node's `ClientRequest`), and JSON.
*/
export function renderings(error: unknown): Record<string, string> {
	const json = (): string => {
		try {
			return JSON.stringify(error) ?? '';
		} catch (jsonError) {
			return `JSON.stringify threw ${(jsonError as Error).message}`;
		}
	};

	return {
		string: String(error),
		inspect: inspect(error, {depth: Infinity}),
		showHidden: inspect(error, {depth: Infinity, showHidden: true}),
		json: json(),
	};
}

/** None of `rendered` contains any of `forbidden`; each failure says which rendering and where. */
export function assertClean(t: ExecutionContext, rendered: Record<string, string>, forbidden: readonly string[]): void {
	for (const [how, text] of Object.entries(rendered)) {
		for (const value of forbidden) {
			const at = text.indexOf(value);
			t.is(at, -1, `${how} shows ${value}: …${text.slice(Math.max(0, at - 200), at + value.length + 40)}…`);
		}
	}
}

/** None of the renderings of `error` contains any of `forbidden`. */
export function assertNoLeak(t: ExecutionContext, error: unknown, forbidden: readonly string[]): void {
	assertClean(t, renderings(error), forbidden);
}

/** The error `promise` rejects with; fails when it resolves. */
export async function caught(promise: PromiseLike<unknown>): Promise<Error> {
	try {
		await promise;
	} catch (error) {
		return error as Error;
	}

	throw new Error('expected a rejection');
}

/** What `/echo` and `/cacheable` answer. */
export type Echo = {authorization?: string};

/** The error a stream emits, consuming its data; `onData` runs for each chunk. */
export async function streamError(stream: NodeJS.ReadableStream, onData?: () => void): Promise<Error> {
	return new Promise((resolve, reject) => {
		stream.on('error', resolve);
		stream.on('data', () => {
			onData?.();
		});
		stream.on('end', () => {
			reject(new Error('the stream ended without an error'));
		});
	});
}

/**
The `authorization` header of every HTTP/1 request Node creates from now on, as it is about to go out: proof that a request the server never saw (a refused connection) did carry the token. Stops at the test's end.
*/
export function watchOutgoing(t: ExecutionContext): Array<string | undefined> {
	const headers: Array<string | undefined> = [];
	const onStart = (message: unknown): void => {
		const {request} = message as {request: http.ClientRequest};
		const value = request.getHeader('authorization');
		headers.push(typeof value === 'string' ? value : undefined);
	};

	subscribe('http.client.request.start', onStart);
	t.teardown(() => {
		unsubscribe('http.client.request.start', onStart);
	});
	return headers;
}
