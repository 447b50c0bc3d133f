import type {ClientAuthenticationMethod} from './method.js';

/**
RFC 6749 §2.3.1: the id and secret as form fields.
*/
export const clientSecretPost = {
	name: 'client_secret_post',
	credential: 'secret',
	prepare({clientId, clientSecret}) {
		if (clientSecret === undefined) {
			return {option: 'clientSecret', problem: 'is required for client_secret_post'};
		}

		return async ({form}) => {
			form.set('client_id', clientId);
			form.set('client_secret', clientSecret);
		};
	},
} as const satisfies ClientAuthenticationMethod;
