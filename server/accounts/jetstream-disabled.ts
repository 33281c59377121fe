// The answer an account without JetStream gets from `$JS.API.>` on a server that has JetStream:
// nats-server's 10039 "JetStream not enabled for account", with the response type of the API
// asked, instead of no answer at all (or, worse, another account's streams).

import { jsApiError } from '../../protocol/js-errors.ts';
import { responseType } from '../../protocol/jetstream-api.ts';
import type { Router } from '../router/router.ts';
import type { Bridge } from './bridge.ts';

export const JS_API_SUBJECTS = '$JS.API.>';
const API_PREFIX = '$JS.API.';

/** The response type's kind for an API subject: INFO -> account_info, STREAM.MSG.GET -> stream_msg_get. */
export function apiKind(subject: string): string {
  const tokens = subject.slice(API_PREFIX.length).split('.');
  if (tokens[0] === 'INFO') return 'account_info';
  if (tokens[0] === 'CONSUMER' && tokens[1] === 'DURABLE') return 'consumer_create';
  if (tokens[1] === 'MSG') return `${tokens[0]}_msg_${tokens[2] ?? ''}`.toLowerCase();
  return tokens.slice(0, 2).join('_').toLowerCase();
}

/** Answers every `$JS.API` request in `router`'s account with 10039; returns the way to stop. */
export function answerJetStreamDisabled(bridge: Bridge, router: Router): () => void {
  return bridge.subscribe(router, JS_API_SUBJECTS, (subject, reply) => {
    if (reply === '') return 1;
    const body = { type: responseType(apiKind(subject)), error: jsApiError('NotEnabledForAccount') };
    router.publish(reply, '', 0, Buffer.from(JSON.stringify(body)), -1);
    return 1;
  });
}
