/*
Without a client secret: the recipes of the readme's "Without a client secret" section, each against a token endpoint on loopback that verifies the platform's token against the JWKS of a "cluster" the test controls, as the identity provider would. And Kubernetes-style rotation: the platform rewrites the token file, and every token request attempt reads it again.
*/
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {jwtVerify} from 'jose';
import {createTokenSource, entraWorkloadIdentity, oauthHooks, TokenError, tokenFromFile} from '../source/index.js';
import {createCluster, expect, fileDirectory, Refusal, startIdentityProvider, verifyClusterToken, type Cluster} from './helpers/federation.js';
import {fakeClock} from './helpers/fakes.js';

const jwtBearerAssertion = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const spiffeAssertion = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';
const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const jwtTokenType = 'urn:ietf:params:oauth:token-type:jwt';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

const clusterIssuer = 'https://oidc.cluster.example/c0ffee';
const serviceAccount = 'system:serviceaccount:payments:api';

// Microsoft Entra ID: an app registration with a federated identity credential naming the cluster's issuer, the service account, and this audience.
const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const appId = '3f1b7e52-9c4d-4a8e-b2f0-6d5c8a9e1f27';
const entraAudience = 'api://AzureADTokenExchange';
const graph = 'https://graph.microsoft.com/.default';

async function startEntra(t: ExecutionContext, cluster: Cluster, {now}: {now?: () => Date} = {}) {
	return startIdentityProvider(t, `/${tenantId}/oauth2/v2.0/token`, async (form, headers) => {
		expect('grant_type', form.grant_type, 'client_credentials', 'unsupported_grant_type');
		expect('client_id', form.client_id, appId, 'invalid_client');
		expect('client_assertion_type', form.client_assertion_type, jwtBearerAssertion, 'invalid_client');
		expect('authorization header', headers.authorization, undefined, 'invalid_client');
		expect('scope', form.scope, graph, 'invalid_scope');
		const claims = await verifyClusterToken(cluster, form.client_assertion ?? '', entraAudience, now?.());
		expect('sub', claims.sub, serviceAccount, 'invalid_client');
		return claims.sub!;
	});
}

test('Microsoft Entra workload identity: entraWorkloadIdentity() and a scope, the projected token as the client assertion of a client credentials request', async t => {
	const cluster = await createCluster(clusterIssuer);
	const entra = await startEntra(t, cluster);
	const files = fileDirectory(t);
	const projected = await cluster.mint({sub: serviceAccount, aud: entraAudience});
	const env = {
		AZURE_CLIENT_ID: appId,
		AZURE_TENANT_ID: tenantId,
		AZURE_FEDERATED_TOKEN_FILE: files.write('azure-identity-token', `${projected}\n`),
		AZURE_AUTHORITY_HOST: `${entra.origin}/`,
	};

	const api = got.extend({prefixUrl: entra.origin}, oauthHooks({...entraWorkloadIdentity({env}), scope: graph}));

	t.deepEqual(await api('api').json(), {authorization: 'Bearer at-1'});
	t.is(entra.requests.length, 1);
	t.is(entra.requests[0]!.outcome, `issued to ${serviceAccount}`);
	t.deepEqual(entra.requests[0]!.form, {grant_type: 'client_credentials', scope: graph, client_id: appId, client_assertion_type: jwtBearerAssertion, client_assertion: projected});
});

test('Microsoft Entra workload identity: the identity provider refuses a token of another service account, or from another cluster', async t => {
	const cluster = await createCluster(clusterIssuer);
	const entra = await startEntra(t, cluster);
	const files = fileDirectory(t);
	const config = (file: string) => ({...entraWorkloadIdentity({env: {AZURE_CLIENT_ID: appId, AZURE_TENANT_ID: tenantId, AZURE_FEDERATED_TOKEN_FILE: file, AZURE_AUTHORITY_HOST: entra.origin}}), scope: graph});

	const otherAccount = files.write('other', await cluster.mint({sub: 'system:serviceaccount:payments:batch', aud: entraAudience}));
	const impostor = await createCluster(clusterIssuer);
	const otherCluster = files.write('foreign', await impostor.mint({sub: serviceAccount, aud: entraAudience}));

	for (const file of [otherAccount, otherCluster]) {
		const error = await t.throwsAsync(createTokenSource(config(file)).getToken(), {instanceOf: TokenError});
		t.is(error.error, 'invalid_client');
	}

	t.deepEqual(entra.requests.map(({outcome}) => outcome.split(':', 1)[0]), ['invalid_client', 'invalid_client']);
});

test('Google workload identity federation: token exchange at the STS with the projected token as a JWT subject token, no client authentication', async t => {
	const cluster = await createCluster(clusterIssuer);
	// A workload identity pool provider that trusts the cluster's issuer; the projected token's audience is the provider's URL.
	const provider = '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/clusters/providers/payments-cluster';
	const cloudPlatform = 'https://www.googleapis.com/auth/cloud-platform';
	const sts = await startIdentityProvider(t, '/v1/token', async (form, headers) => {
		expect('grant_type', form.grant_type, tokenExchange, 'unsupported_grant_type');
		expect('audience', form.audience, provider, 'invalid_target');
		expect('subject_token_type', form.subject_token_type, jwtTokenType);
		expect('requested_token_type', form.requested_token_type, accessTokenType);
		expect('scope', form.scope, cloudPlatform, 'invalid_scope');
		expect('authorization header', headers.authorization, undefined);
		const claims = await verifyClusterToken(cluster, form.subject_token ?? '', `https:${provider}`).catch((error: unknown) => {
			throw new Refusal('invalid_grant', (error as Error).message);
		});
		return `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/clusters/subject/${claims.sub}`;
	}, {answer: {issued_token_type: accessTokenType}});
	const files = fileDirectory(t);
	const projected = await cluster.mint({sub: serviceAccount, aud: `https:${provider}`});
	const tokenFile = files.write('gcp-token', projected);

	const source = createTokenSource({
		tokenEndpoint: sts.url('/v1/token'),
		clientId: 'payments-api',
		clientAuthentication: 'none',
		grant: tokenExchange,
		subjectToken: tokenFromFile(tokenFile),
		subjectTokenType: jwtTokenType,
		requestedTokenType: accessTokenType,
		audience: provider,
		scope: cloudPlatform,
	});

	t.is(await source.getToken(), 'at-1');
	t.is(sts.requests[0]!.outcome, `issued to principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/clusters/subject/${serviceAccount}`);
	t.deepEqual(sts.requests[0]!.form, {
		grant_type: tokenExchange,
		subject_token: projected,
		subject_token_type: jwtTokenType,
		requested_token_type: accessTokenType,
		scope: cloudPlatform,
		audience: provider,
		client_id: 'payments-api',
	});
});

test('SPIFFE: a JWT-SVID as the client assertion, typed jwt-spiffe, its SPIFFE ID the client ID; the server trusts the trust domain\'s bundle', async t => {
	const trustDomain = await createCluster('https://oidc-discovery.example.org');
	const spiffeId = 'spiffe://example.org/ns/payments/sa/api';
	let issuerIdentifier = '';
	const server = await startIdentityProvider(t, '/token', async form => {
		expect('client_assertion_type', form.client_assertion_type, spiffeAssertion, 'invalid_client');
		// The OAuth SPIFFE Client Authentication draft: the SVID's audience is this server's issuer identifier, its subject the registered client.
		const {payload} = await jwtVerify(form.client_assertion ?? '', trustDomain.jwks, {audience: issuerIdentifier});
		expect('sub', payload.sub, spiffeId, 'invalid_client');
		expect('client_id', form.client_id, spiffeId, 'invalid_client');
		return payload.sub!;
	});
	issuerIdentifier = server.origin;
	const files = fileDirectory(t);
	// Where spiffe-helper writes the SVID it fetches from the Workload API.
	const svid = await trustDomain.mint({sub: spiffeId, aud: issuerIdentifier}, {lifetime: 300});
	const svidFile = files.write('jwt_svid.token', svid);

	const token = await createTokenSource({
		tokenEndpoint: server.url('/token'),
		clientId: spiffeId,
		clientAssertion: tokenFromFile(svidFile),
		clientAssertionType: spiffeAssertion,
	}).getToken();

	t.is(token, 'at-1');
	t.is(server.requests[0]!.outcome, `issued to ${spiffeId}`);
	t.deepEqual(server.requests[0]!.form, {grant_type: 'client_credentials', client_id: spiffeId, client_assertion_type: spiffeAssertion, client_assertion: svid});
});

test('Kubernetes rotation: the access token outlives the projected token, and the next token request reads the token the kubelet wrote since', async t => {
	const cluster = await createCluster(clusterIssuer);
	const clock = fakeClock();
	// The identity provider's wall clock, moved with the token source's.
	let now = Math.floor(Date.now() / 1000);
	const advance = (minutes: number) => {
		clock.advance(minutes * 60_000);
		now += minutes * 60;
	};

	const entra = await startEntra(t, cluster, {now: () => new Date(now * 1000)});
	const files = fileDirectory(t);
	// The shortest projected token the kubelet issues lives 10 minutes; the access token, an hour.
	const first = await cluster.mint({sub: serviceAccount, aud: entraAudience}, {now, lifetime: 600});
	const tokenFile = files.write('token', first);
	const source = createTokenSource({...entraWorkloadIdentity({env: {AZURE_CLIENT_ID: appId, AZURE_TENANT_ID: tenantId, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: entra.origin}}), scope: graph, clock});

	t.is(await source.getToken(), 'at-1');

	// Past the first projected token's expiry; the kubelet has replaced it.
	advance(20);
	const second = await cluster.mint({sub: serviceAccount, aud: entraAudience}, {now: now - 120, lifetime: 600});
	files.write('token', second);
	t.is(await source.getToken(), 'at-1');
	t.is(entra.requests.length, 1);

	// Past the access token's expiry: a new token request, with the token in the file now. The first would be refused as expired.
	advance(45);
	const third = await cluster.mint({sub: serviceAccount, aud: entraAudience}, {now: now - 60, lifetime: 600});
	files.write('token', third);
	t.is(await source.getToken(), 'at-2');
	t.is(entra.requests.length, 2);
	t.is(entra.requests[1]!.form.client_assertion, third);
	t.is(entra.requests[1]!.outcome, `issued to ${serviceAccount}`);
});

test('Kubernetes rotation: every attempt reads the file, so got\'s retry after a lost response sends the token written meanwhile', async t => {
	const cluster = await createCluster(clusterIssuer);
	const entra = await startEntra(t, cluster);
	const files = fileDirectory(t);
	const first = await cluster.mint({sub: serviceAccount, aud: entraAudience});
	const second = await cluster.mint({sub: serviceAccount, aud: entraAudience}, {now: Math.floor(Date.now() / 1000) + 1});
	const tokenFile = files.write('token', first);
	entra.failNext(1);
	entra.onRequest(() => {
		files.write('token', second);
	});

	const token = await createTokenSource({
		tokenEndpoint: entra.url(`/${tenantId}/oauth2/v2.0/token`),
		clientId: appId,
		clientAssertion: tokenFromFile(tokenFile),
		scope: graph,
		tokenRequest: {retry: {backoffLimit: 1}},
	}).getToken();

	t.is(token, 'at-1');
	t.deepEqual(entra.requests.map(({form}) => form.client_assertion), [first, second]);
});

test('Kubernetes rotation: a token file found empty fails that token request with a TokenError naming the file; the next one reads what was written since', async t => {
	const cluster = await createCluster(clusterIssuer);
	const entra = await startEntra(t, cluster);
	const files = fileDirectory(t);
	const tokenFile = files.write('token', '');
	const source = createTokenSource({
		tokenEndpoint: entra.url(`/${tenantId}/oauth2/v2.0/token`),
		clientId: appId,
		clientAssertion: tokenFromFile(tokenFile),
		scope: graph,
		coolDown: 0,
	});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.true(error.message.includes(`\`tokenFromFile('${tokenFile}')\` read an empty file; check that the platform (the token projection, spiffe-helper) has written it`));
	t.is(entra.requests.length, 0);

	files.write('token', await cluster.mint({sub: serviceAccount, aud: entraAudience}));
	t.is(await source.getToken(), 'at-1');
});
