import { useEffect, useRef, useState, type ReactNode, type SyntheticEvent } from 'react';
import { useGet, useSubmission } from '../api/hooks.ts';
import { identity, type ClientAuthMethod, type IntegrationClient } from '../api/generated.ts';
import { choosesAgency } from '../app/roles.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { FieldProblemsProvider } from '../ui/field-problems.tsx';
import { SelectField, TableScroll, TextField } from '../ui/fields.tsx';
import { ConfirmStep } from '../ui/confirm.tsx';

/**
 * Integration clients (ADR 45): an agency's own case-management system on the API, a worker of
 * the agency. The administrator issues them for any agency, a supervisor for its own; a secret is
 * shown once, here, and never again. Part of the People screen: who has access, people or systems.
 */
export function IntegrationClients(props: {
  agency: string;
  agencyOptions: readonly { value: string; label: string }[];
}): ReactNode {
  const { user } = useSession();
  const { t, agencyName } = useI18n();
  const admin = choosesAgency(user);
  const list = useGet(
    identity.listIntegrationClients({ agencyId: admin ? props.agency : user.agencyId, includeRevoked: true }),
  );
  const clients = list.data?.clients ?? [];
  const [adding, setAdding] = useState(false);
  const [issued, setIssued] = useState<{ client: IntegrationClient; secret: string; endpoint: string } | undefined>();
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <>
      <h2 tabIndex={-1} ref={heading}>
        {t('clients.title')}
      </h2>
      <p className="muted">{t('clients.intro')}</p>
      {issued && (
        <SecretNotice
          {...issued}
          onDone={() => {
            setIssued(undefined);
            heading.current?.focus();
          }}
        />
      )}
      {adding ? (
        <ClientForm
          agencyOptions={props.agencyOptions}
          initialAgency={admin ? props.agency : user.agencyId}
          onCancel={() => setAdding(false)}
          onCreated={(client, secret, endpoint) => {
            setAdding(false);
            setIssued({ client, secret, endpoint });
            list.reload();
          }}
        />
      ) : (
        <div className="actions">
          <button type="button" onClick={() => setAdding(true)}>
            {t('clients.add')}
          </button>
        </div>
      )}
      {list.error && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.loading && <Loading />}
      {list.data && clients.length === 0 && <p>{t('clients.empty')}</p>}
      {clients.length > 0 && (
        <TableScroll label={t('clients.title')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('clients.name')}</th>
                <th scope="col">{t('clients.clientId')}</th>
                {admin && <th scope="col">{t('people.agency')}</th>}
                <th scope="col">{t('clients.method')}</th>
                <th scope="col">{t('people.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('common.open')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {clients.map((client) => (
                <tr key={client.clientId}>
                  <th scope="row">{client.name}</th>
                  <td>
                    <code>{client.clientId}</code>
                  </td>
                  {admin && <td>{agencyName(client.agencyId)}</td>}
                  <td>{methodText(client, t)}</td>
                  <td>
                    <ClientStatus client={client} />
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-expanded={selected === client.clientId}
                      onClick={() => setSelected(selected === client.clientId ? undefined : client.clientId)}
                    >
                      {t('people.manage')}
                      <span className="visually-hidden"> {client.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {clients
        .filter((client) => client.clientId === selected)
        .map((client) => (
          <ClientPanel
            key={client.clientId}
            client={client}
            onRotated={(next, secret) => {
              list.reload();
              if (secret) setIssued({ client: next, secret, endpoint: '' });
            }}
            onRevoked={list.reload}
            onClose={() => setSelected(undefined)}
          />
        ))}
    </>
  );
}

type T = ReturnType<typeof useI18n>['t'];

const keyMethod: ClientAuthMethod = 'CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT';

function methodText(client: IntegrationClient, t: T): string {
  return client.authMethod === keyMethod
    ? t('clients.method.key', { alg: client.keyAlgorithm })
    : t('clients.method.secret');
}

function ClientStatus({ client }: { client: IntegrationClient }): ReactNode {
  const { t, language } = useI18n();
  if (client.revokedAt) return t('clients.revoked', { at: dateTime(client.revokedAt, language) });
  if (client.previousValidUntil)
    return t('clients.changingOver', { until: dateTime(client.previousValidUntil, language) });
  return t('people.active');
}

function ClientForm(props: {
  agencyOptions: readonly { value: string; label: string }[];
  initialAgency: string;
  onCancel: () => void;
  onCreated: (client: IntegrationClient, secret: string, endpoint: string) => void;
}): ReactNode {
  const { user } = useSession();
  const { t, agencyName } = useI18n();
  const [name, setName] = useState('');
  const [agencyId, setAgencyId] = useState(props.initialAgency);
  const [method, setMethod] = useState<ClientAuthMethod>('CLIENT_AUTH_METHOD_CLIENT_SECRET');
  const [jwk, setJwk] = useState('');
  const { busy, error, submit } = useSubmission();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const create = async (event: SyntheticEvent) => {
    event.preventDefault();
    await submit(async () => {
      const answer = await identity.createIntegrationClient({
        name: name.trim(),
        agencyId: choosesAgency(user) ? agencyId : user.agencyId,
        authMethod: method,
        ...(method === keyMethod ? { publicJwk: jwk.trim() } : {}),
      });
      if (answer.client) props.onCreated(answer.client, answer.clientSecret, answer.tokenEndpoint);
    });
  };
  return (
    <FieldProblemsProvider error={error}>
      <form noValidate className="card" aria-labelledby="client-form-title" onSubmit={(e) => void create(e)}>
        <h3 id="client-form-title" tabIndex={-1} ref={heading}>
          {t('clients.add')}
        </h3>
        <div className="row">
          <TextField
            label={t('clients.name')}
            hint={t('clients.nameHint')}
            value={name}
            onChange={setName}
            required
            field="/name"
          />
          {choosesAgency(user) ? (
            <SelectField
              label={t('people.agency')}
              options={[{ value: '', label: t('people.chooseAgency') }, ...props.agencyOptions]}
              value={agencyId}
              onChange={setAgencyId}
              field="/agencyId"
            />
          ) : (
            <p className="field">{t('pair.agency', { agency: agencyName(user.agencyId) })}</p>
          )}
        </div>
        <SelectField
          label={t('clients.method')}
          value={method}
          onChange={setMethod}
          field="/authMethod"
          options={[
            { value: 'CLIENT_AUTH_METHOD_CLIENT_SECRET', label: t('clients.method.secret') },
            { value: keyMethod, label: t('clients.method.keyChoice') },
          ]}
        />
        {method === keyMethod && (
          <TextField
            label={t('clients.jwk')}
            hint={t('clients.jwkHint')}
            value={jwk}
            onChange={setJwk}
            multiline
            field="/publicJwk"
          />
        )}
        {error !== undefined && <ErrorNotice error={error} fieldsShown />}
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t('clients.create')}
          </button>
        </div>
      </form>
    </FieldProblemsProvider>
  );
}

/** A secret just issued: shown this once. The gateway keeps only its digest; a lost one is replaced by a rotation. */
function SecretNotice(props: {
  client: IntegrationClient;
  secret: string;
  endpoint: string;
  onDone: () => void;
}): ReactNode {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  const copy = () =>
    void navigator.clipboard?.writeText(props.secret).then(
      () => setCopied(true),
      () => undefined,
    );
  return (
    <div className="card credential" role="region" aria-labelledby="client-secret-title" tabIndex={-1} ref={box}>
      <h3 id="client-secret-title">{t('clients.issued', { client: props.client.clientId })}</h3>
      {props.secret && (
        <>
          <p className="notice">{t('clients.issuedOnce')}</p>
          <p>
            <code className="secret" data-testid="issued-client-secret">
              {props.secret}
            </code>
          </p>
        </>
      )}
      {props.endpoint && <p className="muted">{t('clients.endpoint', { url: props.endpoint })}</p>}
      <div className="actions">
        {props.secret && (
          <button type="button" onClick={copy}>
            {t('people.issued.copy')}
          </button>
        )}
        <button type="button" className="primary" onClick={props.onDone}>
          {t('people.issued.done')}
        </button>
      </div>
      <div role="status">{copied && <p>{t('people.issued.copied')}</p>}</div>
    </div>
  );
}

/** One client: a new credential (at once, or with a while to change over), or its end. */
function ClientPanel(props: {
  client: IntegrationClient;
  onRotated: (client: IntegrationClient, secret: string) => void;
  onRevoked: () => void;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = props;
  const [grace, setGrace] = useState<'0' | '3600' | '86400'>('0');
  const [jwk, setJwk] = useState('');
  const [confirming, setConfirming] = useState<'rotate' | 'revoke' | undefined>(undefined);
  const [done, setDone] = useState('');
  const { busy, error, submit } = useSubmission();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const rotate = () =>
    submit(async () => {
      const answer = await identity.rotateIntegrationClient({
        clientId: client.clientId,
        previousValidSeconds: Number(grace),
        ...(client.authMethod === keyMethod ? { publicJwk: jwk.trim() } : {}),
      });
      setConfirming(undefined);
      setDone(t('clients.rotated'));
      if (answer.client) props.onRotated(answer.client, answer.clientSecret);
    });
  const revoke = () =>
    submit(async () => {
      const answer = await identity.revokeIntegrationClient({ clientId: client.clientId });
      setConfirming(undefined);
      setDone(t('clients.revokedDone', { n: answer.tokensEnded }));
      props.onRevoked();
    });
  return (
    <div className="card" role="region" aria-labelledby="client-panel-title">
      <h3 id="client-panel-title" tabIndex={-1} ref={heading}>
        {t('people.managing', { name: client.name })}
      </h3>
      <div role="status" aria-live="polite">
        {done && <p className="notice notice-ok">{done}</p>}
      </div>
      {!client.revokedAt && (
        <FieldProblemsProvider error={error}>
          <div className="subform">
            <h4>{t('clients.rotate')}</h4>
            <p className="hint">{t('clients.rotateHint')}</p>
            <SelectField
              label={t('clients.grace')}
              value={grace}
              onChange={setGrace}
              field="/previousValidSeconds"
              options={[
                { value: '0', label: t('clients.grace.now') },
                { value: '3600', label: t('clients.grace.hour') },
                { value: '86400', label: t('clients.grace.day') },
              ]}
            />
            {client.authMethod === keyMethod && (
              <TextField
                label={t('clients.jwk')}
                hint={t('clients.jwkHint')}
                value={jwk}
                onChange={setJwk}
                multiline
                field="/publicJwk"
              />
            )}
            <ConfirmStep
              label={t('clients.rotate')}
              start={t('clients.rotate')}
              question={t('clients.rotateConfirm', { name: client.name })}
              yes={t('clients.rotateYes')}
              busy={busy}
              confirming={confirming === 'rotate'}
              onConfirming={(on) => setConfirming(on ? 'rotate' : undefined)}
              onYes={() => void rotate()}
            />
          </div>
          <div className="subform">
            <h4>{t('clients.revoke')}</h4>
            <ConfirmStep
              label={t('clients.revoke')}
              start={t('clients.revoke')}
              question={t('clients.revokeConfirm', { name: client.name })}
              yes={t('clients.revokeYes')}
              busy={busy}
              confirming={confirming === 'revoke'}
              onConfirming={(on) => setConfirming(on ? 'revoke' : undefined)}
              onYes={() => void revoke()}
            />
          </div>
          {error !== undefined && <ErrorNotice error={error} fieldsShown />}
        </FieldProblemsProvider>
      )}
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          {t('people.close')}
        </button>
      </div>
    </div>
  );
}
