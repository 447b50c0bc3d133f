/** @type {import('xo').FlatXoConfig} */
const xoConfig = [
	{
		rules: {
			// OAuth's wire names are snake_case (access_token, grant_type).
			'@typescript-eslint/naming-convention': 'off',
			// Buffer is the Node.js way to base64 and is global on every supported Node.
			'n/prefer-global/buffer': 'off',
			'@stylistic/object-curly-newline': 'off',
			'unicorn/single-line-block-comment-style': 'off',
			'capitalized-comments': 'off',
			'unicorn/prefer-global-number-constants': 'off',
		},
	},
	{
		files: ['package.json'],
		rules: {
			// TypeScript stays on 6.0.x: the linter's TypeScript support needs < 6.1.
			'package-json/dependency-version-range': 'off',
		},
	},
	{
		files: ['scripts/node/package.json'],
		rules: {
			// Binaries only: an engines field would add one more warning when npm itself runs on an older Node.js.
			'package-json/require-engines': 'off',
		},
	},
	{
		files: ['test/**', 'demo/**', 'bench/**', 'fixtures/**'],
		rules: {
			'node-test/no-import-test-files': 'off',
			'@typescript-eslint/no-floating-promises': 'off',
			'no-await-in-loop': 'off',
		},
	},
];

export default xoConfig;
