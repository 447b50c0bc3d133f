/*
The benchmarks' servers, in their own process so that the client's CPU time is the client's alone: a keep-alive API and a token endpoint on 127.0.0.1, steered over IPC.
*/
import process from 'node:process';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

export type ServerCommand =
	| {type: 'configure'; tokenDelay?: number; expiresIn?: number; acceptAnyToken?: boolean}
	| {type: 'revokeAll'}
	| {type: 'stats'};

export type ServerStats = {
	tokenRequests: number;
	apiRequests: number;
	apiRejected: number;
	/** Date.now() of each token issued, to find the expiry boundaries. */
	tokensIssuedAt: number[];
};

export type ServerReady = {type: 'ready'; apiUrl: string; tokenEndpoint: string};

let tokenDelay = 0;
let expiresIn = 3600;
let isAcceptAnyToken = true;
let issued = 0;
/** Tokens numbered at or below this are revoked. */
let revokedUpTo = 0;
const stats: ServerStats = {tokenRequests: 0, apiRequests: 0, apiRejected: 0, tokensIssuedAt: []};

const ok = Buffer.from('{"ok":true}');

/** A bearer token, or a DPoP one with its proof (which this server does not verify: only the client's cost is measured). */
function isAccepted(authorization: string | undefined, proof: string | undefined): boolean {
	const isDpop = proof !== undefined && authorization?.startsWith('DPoP ') === true;
	const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : (isDpop ? authorization.slice('DPoP '.length) : undefined);
	if (token === undefined) {
		return false;
	}

	if (isAcceptAnyToken) {
		return true;
	}

	const number = Number(token.slice('tok-'.length));
	return token.startsWith('tok-') && number > revokedUpTo && number <= issued;
}

const api = createServer((request: IncomingMessage, response: ServerResponse) => {
	stats.apiRequests++;
	request.resume();
	request.on('end', () => {
		if (isAccepted(request.headers.authorization, request.headers.dpop as string | undefined)) {
			response.writeHead(200, {'content-type': 'application/json', 'content-length': ok.length});
			response.end(ok);
			return;
		}

		stats.apiRejected++;
		response.writeHead(401, {'www-authenticate': 'Bearer error="invalid_token"', 'content-length': 0});
		response.end();
	});
});

const tokenEndpoint = createServer((request, response) => {
	stats.tokenRequests++;
	request.resume();
	request.on('end', () => {
		setTimeout(() => {
			issued++;
			stats.tokensIssuedAt.push(Date.now());
			const body = JSON.stringify({access_token: `tok-${issued}`, token_type: request.headers.dpop === undefined ? 'Bearer' : 'DPoP', expires_in: expiresIn});
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(body);
		}, tokenDelay);
	});
});

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return (server.address() as AddressInfo).port;
}

// Many concurrent keep-alive sockets from one client.
api.keepAliveTimeout = 60_000;
api.maxRequestsPerSocket = 0;

const apiPort = await listen(api);
const tokenPort = await listen(tokenEndpoint);

process.on('message', (command: ServerCommand) => {
	switch (command.type) {
		case 'configure': {
			tokenDelay = command.tokenDelay ?? tokenDelay;
			expiresIn = command.expiresIn ?? expiresIn;
			isAcceptAnyToken = command.acceptAnyToken ?? isAcceptAnyToken;
			process.send!({type: 'configured'});
			break;
		}

		case 'revokeAll': {
			revokedUpTo = issued;
			process.send!({type: 'revoked'});
			break;
		}

		case 'stats': {
			process.send!({type: 'stats', stats: {...stats, tokensIssuedAt: [...stats.tokensIssuedAt]}});
			break;
		}
	}
});

process.on('disconnect', () => {
	process.exit(0);
});

process.send!({type: 'ready', apiUrl: `http://127.0.0.1:${apiPort}`, tokenEndpoint: `http://127.0.0.1:${tokenPort}/token`} satisfies ServerReady);
