/*
Tokens at rest: the value format as documented, keys derived the same way in every process, and anything but an unchanged value written under its own key opening as nothing.
*/
import {createCipheriv, createDecipheriv, createPrivateKey, createSecretKey, generateKeyPairSync, randomBytes} from 'node:crypto';
import {inspect} from 'node:util';
import test from 'ava';
import {
	deriveStoreKeys,
	openEntry,
	sealEntry,
	tokenFingerprint,
	valueFingerprint,
	type StoreKeys,
	type StoredToken,
} from '../../source/stores/sealed-entry.js';

const keys = deriveStoreKeys('client-secret-of-some-length');
const key = 'cache-key.0123456789abcdef';
const entry: StoredToken = {
	accessToken: 'access-token-value',
	tokenType: 'Bearer',
	scope: 'read write',
	expiresAt: 1_700_000_000_000,
	usableUntil: 1_699_999_940_000,
};

/** Encrypt any plaintext the documented way, independently of the code under test. */
function sealRaw(storeKeys: StoreKeys, storeKey: string, fingerprint: string, plaintext: string): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', storeKeys.encryptionKey.export(), iv);
	cipher.setAAD(Buffer.from(`1.${fingerprint}.${storeKey}`));
	const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
	return `1.${fingerprint}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

test('the same material gives the same keys in every call; other material, other keys', t => {
	const again = deriveStoreKeys('client-secret-of-some-length');
	t.is(again.keyId, keys.keyId);
	t.true(again.encryptionKey.equals(keys.encryptionKey));
	t.is(tokenFingerprint(again, 'token'), tokenFingerprint(keys, 'token'));

	const other = deriveStoreKeys('another-client-secret');
	t.not(other.keyId, keys.keyId);
	t.false(other.encryptionKey.equals(keys.encryptionKey));
	t.not(tokenFingerprint(other, 'token'), tokenFingerprint(keys, 'token'));
	t.not(deriveStoreKeys(Buffer.alloc(32, 1)).keyId, deriveStoreKeys(Buffer.alloc(32, 2)).keyId);
});

test('the key id is 16 hex characters that are neither key', t => {
	t.regex(keys.keyId, /^[\da-f]{16}$/v);
	t.false(keys.encryptionKey.export().toString('hex').includes(keys.keyId));
	t.false(keys.fingerprintKey.export().toString('hex').includes(keys.keyId));
	t.false(keys.encryptionKey.equals(keys.fingerprintKey));
});

test('keys are KeyObjects: printing them shows no key material', t => {
	const printed = inspect(keys, {depth: 5});
	t.false(printed.includes(keys.encryptionKey.export().toString('hex')));
	t.false(printed.includes(keys.encryptionKey.export().toString('base64')));
	t.is(keys.encryptionKey.symmetricKeySize, 32);
});

test('a private key gives the same keys whatever form it was read from', t => {
	const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
	const fromPem = deriveStoreKeys(privateKey);
	const pem = privateKey.export({type: 'sec1', format: 'pem'});
	t.is(deriveStoreKeys(createPrivateKey(pem)).keyId, fromPem.keyId);
	const jwk = privateKey.export({format: 'jwk'});
	t.is(deriveStoreKeys(createPrivateKey({key: jwk, format: 'jwk'})).keyId, fromPem.keyId);
	t.not(deriveStoreKeys(generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey).keyId, fromPem.keyId);
});

test('a secret KeyObject is used by its bytes', t => {
	const bytes = randomBytes(32);
	t.is(deriveStoreKeys(createSecretKey(bytes)).keyId, deriveStoreKeys(bytes).keyId);
});

test('a value is version, fingerprint, iv and ciphertext with tag, as documented', t => {
	const value = sealEntry(keys, key, entry);
	const [version, fingerprint, iv, sealed] = value.split('.') as [string, string, string, string];
	t.is(value.split('.').length, 4);
	t.is(version, '1');
	t.is(fingerprint, tokenFingerprint(keys, entry.accessToken));
	t.regex(fingerprint, /^[\w\-]{22}$/v);
	t.is(valueFingerprint(value), fingerprint);
	t.is(Buffer.from(iv, 'base64url').length, 12);

	const bytes = Buffer.from(sealed, 'base64url');
	const decipher = createDecipheriv('aes-256-gcm', keys.encryptionKey.export(), Buffer.from(iv, 'base64url'));
	decipher.setAAD(Buffer.from(`1.${fingerprint}.${key}`));
	decipher.setAuthTag(bytes.subarray(-16));
	const plaintext = Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString();
	t.deepEqual(JSON.parse(plaintext), entry);
});

test('every write uses a new iv', t => {
	const first = sealEntry(keys, key, entry);
	const second = sealEntry(keys, key, entry);
	t.not(first, second);
	t.is(valueFingerprint(first), valueFingerprint(second));
});

test('a sealed entry opens to itself, with or without the optional members', t => {
	t.deepEqual(openEntry(keys, key, sealEntry(keys, key, entry)), entry);
	const {scope: _scope, ...withoutScope} = entry;
	t.deepEqual(openEntry(keys, key, sealEntry(keys, key, withoutScope)), withoutScope);
	const withDpopKey = {...entry, dpopKey: {kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd'}};
	t.deepEqual(openEntry(keys, key, sealEntry(keys, key, withDpopKey)), withDpopKey);
});

test('members a later version may add are dropped', t => {
	const value = sealRaw(keys, key, tokenFingerprint(keys, entry.accessToken), JSON.stringify({...entry, future: 1}));
	t.deepEqual(openEntry(keys, key, value), entry);
});

test('neither the token nor the material appears in a value', t => {
	const value = sealEntry(keys, key, entry);
	const decoded = value.split('.').map(field => Buffer.from(field, 'base64url').toString('latin1'));
	for (const text of [value, ...decoded]) {
		t.false(text.includes(entry.accessToken));
		t.false(text.includes('client-secret'));
	}
});

// Neighbours too: in a field's last character a change of the low bits alone may decode to the same bytes.
const replacements = [...'ABCDEFQgw_-.0'];

/** `value` with each of its characters replaced, in turn, by each other replacement. */
function oneCharacterChanges(value: string): string[] {
	return [...value].flatMap((original, index) => replacements
		.filter(replacement => replacement !== original)
		.map(replacement => value.slice(0, index) + replacement + value.slice(index + 1)));
}

test('any one character changed makes a value open as nothing', t => {
	// Three lengths of ciphertext, so that its last character carries 0, 2 and 4 unused bits.
	const values = ['a', 'ab', 'abc'].map(scope => sealEntry(keys, key, {...entry, scope}));
	const remainders = values.map(value => Buffer.from(value.split('.', 4)[3]!, 'base64url').length % 3);
	t.deepEqual(remainders.toSorted((a, b) => a - b), [0, 1, 2]);
	let changed = 0;
	for (const modified of values.flatMap(value => oneCharacterChanges(value))) {
		t.is(openEntry(keys, key, modified), undefined, modified);
		changed++;
	}

	t.true(changed > values.length * values[0]!.length * 6);
});

test('a value cut anywhere, or extended, opens as nothing', t => {
	const value = sealEntry(keys, key, entry);
	for (let length = 0; length < value.length; length++) {
		t.is(openEntry(keys, key, value.slice(0, length)), undefined);
	}

	t.is(openEntry(keys, key, `${value}A`), undefined);
	t.is(openEntry(keys, key, `${value}.A`), undefined);
});

test('a value written under another key, or with other keys, opens as nothing', t => {
	const value = sealEntry(keys, key, entry);
	t.is(openEntry(keys, 'another-cache-key.0123456789abcdef', value), undefined);
	t.is(openEntry(deriveStoreKeys('another-client-secret'), key, value), undefined);
});

test('a fingerprint swapped for another token\'s opens as nothing', t => {
	const value = sealEntry(keys, key, entry);
	const [iv, sealed] = value.split('.', 4).slice(2);
	const other = tokenFingerprint(keys, 'another-token');
	t.is(openEntry(keys, key, `1.${other}.${iv}.${sealed}`), undefined);
	// Encrypted under the other fingerprint too, but naming a token it does not hold.
	const plaintext = JSON.stringify(entry);
	t.is(openEntry(keys, key, sealRaw(keys, key, other, plaintext)), undefined);
});

test('another version opens as nothing', t => {
	const [, ...rest] = sealEntry(keys, key, entry).split('.');
	t.is(openEntry(keys, key, ['2', ...rest].join('.')), undefined);
});

test('authentic plaintext that is not JSON, or not an entry, opens as nothing', t => {
	const fingerprint = tokenFingerprint(keys, entry.accessToken);
	const plaintexts = [
		'not json',
		'[]',
		'null',
		JSON.stringify({...entry, accessToken: undefined}),
		JSON.stringify({...entry, accessToken: ''}),
		JSON.stringify({...entry, accessToken: 'line\nbreak'}),
		JSON.stringify({...entry, tokenType: 1}),
		JSON.stringify({...entry, scope: ['read']}),
		JSON.stringify({...entry, expiresAt: '1700000000000'}),
		JSON.stringify({...entry, usableUntil: undefined}),
		JSON.stringify({...entry, usableUntil: entry.expiresAt + 1}),
		JSON.stringify({...entry, dpopKey: 'key'}),
	];
	for (const plaintext of plaintexts) {
		t.is(openEntry(keys, key, sealRaw(keys, key, fingerprint, plaintext)), undefined, plaintext);
	}

	const plaintext = JSON.stringify(entry);
	t.deepEqual(openEntry(keys, key, sealRaw(keys, key, fingerprint, plaintext)), entry);
});

test('what is not a string, or is far too long to be a value, opens as nothing', t => {
	for (const value of [undefined, null, 1, {}, Buffer.from(sealEntry(keys, key, entry))]) {
		t.is(openEntry(keys, key, value), undefined);
	}

	t.is(openEntry(keys, key, `1.${'A'.repeat(22)}.${'A'.repeat(16)}.${'A'.repeat(70_000)}`), undefined);
	t.is(openEntry(keys, key, `1.${'A'.repeat(22)}.${'A'.repeat(16)}.${'A'.repeat(20)}`), undefined);
});

test('valueFingerprint reads the second field of anything value-shaped', t => {
	t.is(valueFingerprint('1.abc.def.ghi'), 'abc');
	t.is(valueFingerprint('1.abc'), undefined);
	t.is(valueFingerprint(undefined), undefined);
	t.is(valueFingerprint(42), undefined);
});
