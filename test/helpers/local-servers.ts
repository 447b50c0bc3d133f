import http from 'node:http';
import type https from 'node:https';
import type {AddressInfo} from 'node:net';
import {performance} from 'node:perf_hooks';

export type RecordedRequest = {
	readonly method: string;
	readonly path: string;
	readonly headers: http.IncomingHttpHeaders;
	readonly body: string;
	/** performance.now() when the request had been read. */
	readonly at: number;
};

export type Answer = {
	status?: number;
	headers?: Record<string, string>;
	/** Objects are sent as JSON, strings as they are. */
	body?: unknown;
	/** Milliseconds to wait before answering. */
	delay?: number;
};

/** 'hang': read the request and never answer, until the server is closed. */
export type Reply = 'hang' | Answer;

/** `index` counts from 0 over every request this server has seen. Returning undefined falls back to the server's default reply. */
export type Handler = (request: RecordedRequest, index: number) => Reply | undefined;

export type LocalServer = {
	readonly port: number;
	/** `http://127.0.0.1:<port>` */
	readonly origin: string;
	/** Every request, in arrival order. */
	readonly requests: RecordedRequest[];
	readonly count: number;
	url(path?: string): string;
	/** Replace the handler; the default reply still answers when it returns undefined. */
	handle(handler: Handler | undefined): void;
	close(): Promise<void>;
};

async function startServer(fallback: Handler): Promise<LocalServer> {
	const requests: RecordedRequest[] = [];
	const timers = new Set<NodeJS.Timeout>();
	let handler: Handler | undefined;

	const server = http.createServer((request, response) => {
		const chunks: Uint8Array[] = [];
		request.on('data', (chunk: Uint8Array) => {
			chunks.push(chunk);
		});
		request.on('end', () => {
			const recorded: RecordedRequest = {
				method: request.method ?? '',
				path: request.url ?? '',
				headers: request.headers,
				body: Buffer.concat(chunks).toString(),
				at: performance.now(),
			};
			const index = requests.length;
			requests.push(recorded);
			const reply = handler?.(recorded, index) ?? fallback(recorded, index)!;
			if (reply === 'hang') {
				return;
			}

			const send = () => {
				const {body} = reply;
				const text = body === undefined ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
				const headers: Record<string, string> = typeof body === 'object' && body !== null ? {'content-type': 'application/json'} : {};
				response.writeHead(reply.status ?? 200, {...headers, ...reply.headers});
				response.end(text);
			};

			if (reply.delay === undefined) {
				send();
			} else {
				const timer = setTimeout(() => {
					timers.delete(timer);
					send();
				}, reply.delay);
				timers.add(timer);
			}
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	const origin = `http://127.0.0.1:${port}`;

	return {
		port,
		origin,
		requests,
		get count() {
			return requests.length;
		},
		url: (path = '/') => new URL(path, origin).href,
		handle(next) {
			handler = next;
		},
		async close() {
			for (const timer of timers) {
				clearTimeout(timer);
			}

			// Hanging and keep-alive sockets would otherwise hold close() open.
			server.closeAllConnections();
			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/** A successful RFC 6749 §5.1 token response. */
export const tokenReply = (accessToken: string, expiresIn = 3600): Answer => ({
	body: {access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn},
});

/**
A token endpoint that issues `<prefix>-1`, `<prefix>-2`, … (one per request) unless told otherwise with `handle()`.
*/
export async function startTokenEndpoint({prefix = 'access-token', delay}: {prefix?: string; delay?: number} = {}): Promise<LocalServer> {
	return startServer((_request, index) => ({...tokenReply(`${prefix}-${index + 1}`), delay}));
}

/**
An API that answers 200 with its path and the `authorization` header it received (the key is absent when none was), so a response also shows what was sent.
*/
export async function startApiServer(handler?: Handler): Promise<LocalServer> {
	const server = await startServer(request => ({body: {path: request.path, authorization: request.headers.authorization}}));
	server.handle(handler);
	return server;
}

/** Listen on a free loopback port until the test ends; the port. */
export async function serveOnLoopback(server: http.Server | https.Server, t: {teardown(fn: () => Promise<void>): void}): Promise<number> {
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	t.teardown(async () => {
		// Keep-alive sockets would otherwise hold close() open.
		server.closeAllConnections();
		await new Promise(resolve => {
			server.close(resolve);
		});
	});
	return (server.address() as AddressInfo).port;
}

/** A loopback port nothing listens on (it was free a moment ago): connecting to it is refused. */
export async function closedPort(): Promise<number> {
	const server = http.createServer();
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	await new Promise<void>(resolve => {
		server.close(() => {
			resolve();
		});
	});
	return port;
}

/** Base64 of `id:secret` as client_secret_basic sends it (the values used in tests need no form-encoding). */
export const basicForm = (clientId: string, clientSecret: string): string => Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
