import { RetenError } from '@reten/contracts';
import { TargetRefusedError, checkTarget } from '@reten/webhooks';
import type { TargetPolicy } from '@reten/webhooks';

/** Checks a webhook URL (syntax, scheme, SSRF guard) or answers 422 with the reason. */
export async function checkWebhookUrl(url: string, policy: TargetPolicy): Promise<string> {
  try {
    return (await checkTarget(url, policy)).toString();
  } catch (err) {
    if (!(err instanceof TargetRefusedError)) throw err;
    throw new RetenError('validation_failed', `Invalid body.url: ${err.reason}`, [
      { path: 'body.url', message: err.reason },
    ]);
  }
}
