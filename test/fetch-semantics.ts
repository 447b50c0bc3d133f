/*
What the adapters rely on in Node.js's global fetch (undici), tested on fetch alone (no got-oauth code): if a Node.js or undici upgrade changes one of these, this file fails and names it. Above all, the adapters leave redirects to fetch because fetch drops `Authorization` on every hop to another origin and never puts it back.
*/
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import type {IncomingHttpHeaders} from 'node:http';
import {createServer} from 'node:https';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import test, {type ExecutionContext} from 'ava';
import {close, listen} from '../fixtures/servers.js';
import {testPki} from './helpers/certificates.js';
import {startApiServer, type LocalServer} from './helpers/local-servers.js';

async function apis(t: ExecutionContext, count: number): Promise<LocalServer[]> {
	const servers = await Promise.all(Array.from({length: count}, async () => startApiServer()));
	t.teardown(async () => Promise.all(servers.map(async server => server.close())));
	return servers;
}

const credentials = {authorization: 'Bearer tok-1', cookie: 'session=1', 'proxy-authorization': 'Basic cHJveHk6cHc=', 'x-api-key': 'key-1'};

const redirect = (location: string, status = 302) => ({status, headers: {location}});

/** Which of the credential headers a request arrived with. */
const credentialsOf = (headers: IncomingHttpHeaders) => Object.keys(credentials).filter(name => headers[name] !== undefined);

test('a redirect within the origin keeps Authorization, Cookie and Proxy-Authorization', async t => {
	const [a] = await apis(t, 1);
	a!.handle(request => request.path === '/start' ? redirect('/final') : undefined);

	await fetch(a!.url('/start'), {headers: credentials});

	t.deepEqual(a!.requests.map(request => credentialsOf(request.headers)), [Object.keys(credentials), Object.keys(credentials)]);
});

test('a hop to another port drops Authorization, Cookie and Proxy-Authorization, but not other headers', async t => {
	const [a, b] = await apis(t, 2);
	a!.handle(() => redirect(b!.url('/final')));

	const response = await fetch(a!.url('/start'), {headers: credentials});

	t.deepEqual(credentialsOf(b!.requests[0]!.headers), ['x-api-key']);
	t.true(response.redirected);
	t.is(response.url, b!.url('/final'));
});

test('a hop to another host name on the same port (127.0.0.1 → localhost) drops them too', async t => {
	const [a] = await apis(t, 1);
	a!.handle(request => request.path === '/start' ? redirect(`http://localhost:${a!.port}/final`) : undefined);

	await fetch(a!.url('/start'), {headers: credentials});

	t.deepEqual(a!.requests.map(request => [request.headers.host, credentialsOf(request.headers)]), [
		[`127.0.0.1:${a!.port}`, Object.keys(credentials)],
		[`localhost:${a!.port}`, ['x-api-key']],
	]);
});

test('A → B → A: once dropped, Authorization is not put back on the way home', async t => {
	const [a, b] = await apis(t, 2);
	a!.handle(request => request.path === '/start' ? redirect(b!.url('/bounce')) : undefined);
	b!.handle(() => redirect(a!.url('/home'), 307));

	const response = await fetch(a!.url('/start'), {headers: credentials});

	t.deepEqual(a!.requests.map(request => [request.path, request.headers.authorization]), [['/start', 'Bearer tok-1'], ['/home', undefined]]);
	// The final URL is A's again: only `redirected` and `url` remain of the hops, so A → B → A looks like A → A.
	t.true(response.redirected);
	t.is(new URL(response.url).origin, a!.origin);
});

test('A → A → B: kept on the second A, dropped at B', async t => {
	const [a, b] = await apis(t, 2);
	a!.handle(request => redirect(request.path === '/start' ? '/again' : b!.url('/final')));

	await fetch(a!.url('/start'), {headers: credentials});

	t.deepEqual(a!.requests.map(request => request.headers.authorization), ['Bearer tok-1', 'Bearer tok-1']);
	t.is(b!.requests[0]!.headers.authorization, undefined);
});

test('http → https and https → http drop Authorization (fetch in a child process that trusts a test CA)', async t => {
	const pki = testPki();
	const directory = mkdtempSync(path.join(tmpdir(), 'got-oauth-fetch-'));
	t.teardown(() => {
		rmSync(directory, {recursive: true, force: true});
	});
	const caFile = path.join(directory, 'ca.pem');
	writeFileSync(caFile, pki.ca);

	const [plain] = await apis(t, 1);
	const secureSeen: Array<[string, string | undefined]> = [];
	const secure = createServer({key: pki.server.key, cert: pki.server.certificate}, (request, response) => {
		secureSeen.push([request.url ?? '', request.headers.authorization]);
		if (request.url === '/start') {
			response.writeHead(302, {location: plain!.url('/from-https')}).end();
		} else {
			response.end('ok');
		}
	});
	const securePort = await listen(secure);
	t.teardown(async () => close(secure));
	const secureUrl = (pathname: string) => `https://127.0.0.1:${securePort}${pathname}`;
	plain!.handle(request => request.path === '/start' ? redirect(secureUrl('/from-http')) : undefined);

	const script = 'for (const url of process.argv.slice(1)) { const response = await fetch(url, {headers: {authorization: "Bearer tok-1"}}); await response.text(); }';
	await new Promise<void>((resolve, reject) => {
		execFile(process.execPath, ['--input-type=module', '-e', script, plain!.url('/start'), secureUrl('/start')], {env: {...process.env, NODE_EXTRA_CA_CERTS: caFile}}, error => {
			if (error) {
				reject(new Error('the child process failed', {cause: error}));
			} else {
				resolve();
			}
		});
	});

	t.deepEqual(plain!.requests.map(request => [request.path, request.headers.authorization]), [['/start', 'Bearer tok-1'], ['/from-https', undefined]]);
	t.deepEqual(secureSeen, [['/from-http', undefined], ['/start', 'Bearer tok-1']]);
});

test('redirect: manual gives back the 3xx itself, its Location readable (not an opaque redirect)', async t => {
	const [a] = await apis(t, 1);
	a!.handle(() => redirect('/final'));

	const response = await fetch(a!.url('/start'), {redirect: 'manual'});

	t.is(response.status, 302);
	t.is(response.type, 'basic');
	t.is(response.headers.get('location'), '/final');
	t.false(response.redirected);
	t.is(a!.count, 1);
});

test('a 307 of a stream body rejects: a body with no source cannot follow a redirect', async t => {
	const [a] = await apis(t, 1);
	a!.handle(request => request.path === '/start' ? redirect('/final', 307) : undefined);

	await t.throwsAsync(fetch(a!.url('/start'), {method: 'POST', body: new Blob(['chunk']).stream(), duplex: 'half'} as RequestInit), {instanceOf: TypeError, message: 'fetch failed'});
	t.is(a!.count, 1);
});

test('new Request(request, {headers}) replaces every header, keeps method, body, signal and redirect, and takes the body over', async t => {
	const controller = new AbortController();
	const original = new Request('http://127.0.0.1/x', {method: 'PUT', body: 'payload', headers: {'x-caller': '1'}, signal: controller.signal, redirect: 'manual'});

	const copy = new Request(original, {headers: {authorization: 'Bearer tok-1'}});

	t.is(copy.headers.get('x-caller'), null);
	t.is(copy.method, 'PUT');
	t.is(copy.redirect, 'manual');
	t.true(original.bodyUsed);
	t.is(await copy.text(), 'payload');
	controller.abort();
	t.true(copy.signal.aborted);
});

test('a Request\'s signal follows the caller\'s, reason included', t => {
	const controller = new AbortController();
	const reason = new Error('caller gave up');
	const request = new Request('http://127.0.0.1/x', {signal: controller.signal});

	controller.abort(reason);

	t.true(request.signal.aborted);
	t.is(request.signal.reason, reason);
});

test('Request#clone() before sending keeps a stream body for a second send; after sending it throws; an unused clone can be cancelled', async t => {
	const [a] = await apis(t, 1);
	const request = new Request(a!.url('/x'), {method: 'POST', body: new Blob(['streamed']).stream(), duplex: 'half'} as RequestInit);
	const spare = request.clone();
	const unused = request.clone();

	await fetch(request);
	t.throws(() => request.clone(), {instanceOf: TypeError});
	await fetch(spare);
	await t.notThrowsAsync(unused.body!.cancel());

	t.deepEqual(a!.requests.map(recorded => recorded.body), ['streamed', 'streamed']);
});

test('Headers#set refuses a value with a line break, and its message quotes the value', t => {
	const error = t.throws(() => {
		new Headers().set('authorization', 'Bearer tok-SECRET\nx');
	}, {instanceOf: TypeError});

	t.true(error.message.includes('tok-SECRET'));
});
