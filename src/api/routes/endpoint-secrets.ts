import { Type } from 'typebox';
import { generateSecret, secretProblem } from '../../security/secrets.js';
import { publicKeyOf, isSigningKey } from '../../delivery/signing/ed25519.js';
import { recordAudit } from '../../store/audit.js';
import { getEndpoint, getEndpointForUpdate, saveEndpoint } from '../../store/endpoints.js';
import { actorOf } from '../auth.js';
import { requireCredentialAccess } from '../credential-access.js';
import { errors } from '../../errors.js';
import { EndpointParams, SecretBody, SecretRotate } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** At most this many previous secrets keep signing at once (as Svix). */
const MAX_OLD_SECRETS = 10;

/** The secret route's answer: the secret, and for an ed25519 key the public key receivers verify with. */
const secretBody = (secret: string) => ({ secret, publicKey: isSigningKey(secret) ? publicKeyOf(secret) : null });

export const endpointSecretRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['endpoints'];

  app.get('/v1/tenants/:tenantId/endpoints/:endpointId/secret', { schema: { tags, params: EndpointParams, response: { 200: SecretBody } } }, async (req) => {
    // whoever holds the secret can forge this endpoint's webhooks: not for read-only tokens
    requireCredentialAccess(req, 'signing secrets');
    const e = await getEndpoint(ctx.db, req.params.tenantId, req.params.endpointId, ctx.secrets);
    if (!e) throw errors.notFound('endpoint');
    return secretBody(e.secret);
  });

  /**
   * Rotation: the new secret signs from now on; the previous one keeps
   * signing beside it for `graceSeconds` (default 24 h), so receivers can
   * switch without missing a delivery. For ed25519 both keys sign (two
   * `v1a,` signatures) and the answer carries the new public key.
   */
  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/secret/rotate',
    { schema: { tags, params: EndpointParams, body: Type.Optional(SecretRotate), response: { 200: SecretBody } } },
    async (req) => {
      const { tenantId, endpointId } = req.params;
      const grace = req.body?.graceSeconds ?? 86_400;
      return ctx.db.transaction(async (tx) => {
        const cur = await getEndpointForUpdate(tx, tenantId, endpointId, ctx.secrets);
        if (!cur) throw errors.notFound('endpoint');
        const secret = req.body?.secret ?? generateSecret(cur.signature.scheme);
        const problem = secretProblem(secret, cur.signature.scheme);
        if (problem) throw errors.invalidField('secret', problem);
        if (secret === cur.secret) throw errors.invalidField('secret', 'must differ from the current secret');
        const now = Date.now();
        const live = cur.oldSecrets.filter((o) => Date.parse(o.expiresAt) > now);
        if (grace > 0) live.unshift({ secret: cur.secret, expiresAt: new Date(now + grace * 1000).toISOString() });
        if (live.length > MAX_OLD_SECRETS) throw errors.conflict(`at most ${MAX_OLD_SECRETS} previous secrets may be in their grace period`);
        await saveEndpoint(tx, { ...cur, secret, oldSecrets: live }, ctx.secrets);
        await recordAudit(tx, {
          tenantId, actor: actorOf(req), action: 'endpoint.secret_rotated', targetType: 'endpoint', targetId: endpointId,
          details: { graceSeconds: grace },
        });
        return secretBody(secret);
      });
    },
  );
};
