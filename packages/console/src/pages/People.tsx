import { useEffect, useId, useRef, useState, type ReactNode, type SyntheticEvent } from 'react';
import { useGet, useSubmission } from '../api/hooks.ts';
import {
  identity,
  type Credential,
  type IssuedCredential,
  type Person,
  type Session as PersonSession,
} from '../api/generated.ts';
import { usePath } from '../app/router.tsx';
import { choosesAgency, grantableRoles, manages } from '../app/roles.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { ApiError } from '../api/client.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { FieldProblemsProvider, useFieldProblem } from '../ui/field-problems.tsx';
import { IntegrationClients } from './IntegrationClients.tsx';
import { Checkbox, SelectField, TableScroll, TextField } from '../ui/fields.tsx';
import { ConfirmStep } from '../ui/confirm.tsx';

/**
 * People administration (ADR 30): the ministry's administrator sees and manages everyone, an
 * agency's supervisor their own agency's people. What is offered (agencies, roles) follows
 * the gateway's rule, which refuses anything else anyway. `/people?agency=<id>&add=supervisor`
 * opens the form for an agency's first supervisor (the directory links there after adding one).
 */
export function People(): ReactNode {
  const { user } = useSession();
  const { t, l, agencyName } = useI18n();
  const { search } = usePath();
  const admin = choosesAgency(user);
  const [agency, setAgency] = useState(admin ? (search.get('agency') ?? '') : user.agencyId);
  const preset = search.get('add');
  const [adding, setAdding] = useState(preset !== null);
  const [issued, setIssued] = useState<{ person: Person; credential: IssuedCredential } | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const list = useGet(identity.listPeople({ agencyId: agency, pageSize: 200 }));
  const people = list.data?.people ?? [];
  const { agencies } = useSession();
  // An agency asked for by address (one just listed, before the directory is read again) is offered too.
  const agencyOptions = [...agencies.keys(), ...(agency && !agencies.has(agency) ? [agency] : [])]
    .map((id) => ({ value: id, label: agencyName(id) }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const current = people.find((p) => p.userId === selected);
  const listHeading = useRef<HTMLHeadingElement>(null);

  return (
    <section>
      <h1 tabIndex={-1}>{t('people.title')}</h1>
      <p className="muted">
        {admin ? t('people.introAdmin') : t('people.introSupervisor', { agency: agencyName(user.agencyId) })}
      </p>
      {issued && (
        <CredentialNotice
          person={issued.person}
          credential={issued.credential}
          onDone={() => {
            setIssued(undefined);
            // The notice goes away with the focus in it: the list takes it.
            listHeading.current?.focus();
          }}
        />
      )}
      {adding ? (
        <PersonForm
          agencyOptions={agencyOptions}
          initialAgency={admin ? agency : user.agencyId}
          initialRoles={preset && (grantableRoles(user) as string[]).includes(preset) ? [preset] : []}
          onCancel={() => setAdding(false)}
          onCreated={(person, credential) => {
            setAdding(false);
            setIssued({ person, credential });
            list.reload();
          }}
        />
      ) : (
        <div className="actions">
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            {t('people.add')}
          </button>
        </div>
      )}
      <h2 tabIndex={-1} ref={listHeading}>
        {t('people.list')}
      </h2>
      {admin ? (
        <SelectField
          label={t('people.filterAgency')}
          value={agency}
          onChange={setAgency}
          options={[{ value: '', label: t('people.allAgencies') }, ...agencyOptions]}
        />
      ) : (
        <p>{t('pair.agency', { agency: agencyName(user.agencyId) })}</p>
      )}
      {list.error && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.loading && <Loading />}
      {list.data && people.length === 0 && <p>{t('people.empty')}</p>}
      {people.length > 0 && (
        <TableScroll label={t('people.list')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('people.name')}</th>
                <th scope="col">{t('people.userId')}</th>
                {admin && <th scope="col">{t('people.agency')}</th>}
                <th scope="col">{t('people.roles')}</th>
                <th scope="col">{t('people.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('common.open')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {people.map((person) => (
                <tr key={person.userId}>
                  <th scope="row">{person.displayName}</th>
                  <td>
                    <code>{person.userId}</code>
                  </td>
                  {admin && <td>{agencyName(person.agencyId)}</td>}
                  <td>{person.roles.map((r) => label(l.role, r)).join(', ')}</td>
                  <td>{statusText(person, t)}</td>
                  <td>
                    {manages(user, person) && (
                      <button
                        type="button"
                        aria-expanded={selected === person.userId}
                        onClick={() => setSelected(selected === person.userId ? undefined : person.userId)}
                      >
                        {t('people.manage')}
                        <span className="visually-hidden"> {person.displayName}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {list.data?.nextCursor && <p className="muted">{t('people.more', { n: people.length })}</p>}
      {current && (
        <PersonPanel
          // Another person is another panel: nothing of the previous one carried over.
          key={current.userId}
          person={current}
          onChanged={list.reload}
          onIssued={(person, credential) => setIssued({ person, credential })}
          onClose={() => setSelected(undefined)}
        />
      )}
      <IntegrationClients agency={agency} agencyOptions={agencyOptions} />
    </section>
  );
}

type T = ReturnType<typeof useI18n>['t'];

function statusText(person: Person, t: T): string {
  if (person.disabledAt) return t('people.disabled');
  if (person.mustChangePassword) return t('people.mustChange');
  return t('people.active');
}

function CredentialChoice({
  value,
  onChange,
  label: text,
}: {
  value: Credential;
  onChange: (value: Credential) => void;
  label?: string;
}): ReactNode {
  const { t } = useI18n();
  return (
    <SelectField
      label={text ?? t('people.credential')}
      value={value}
      onChange={onChange}
      options={[
        { value: 'CREDENTIAL_LINK', label: t('people.credential.link') },
        { value: 'CREDENTIAL_TEMPORARY_PASSWORD', label: t('people.credential.temporary') },
      ]}
    />
  );
}

/** The roles the signed-in person may grant, as checkboxes; refusals of `roles` show beside them. */
function RolesField({ selected, onChange }: { selected: string[]; onChange: (roles: string[]) => void }): ReactNode {
  const { user } = useSession();
  const { t, l } = useI18n();
  const problem = useFieldProblem('/roles');
  const id = useId();
  const toggle = (role: string, on: boolean) => onChange(on ? [...selected, role] : selected.filter((r) => r !== role));
  return (
    <fieldset className="group" aria-describedby={problem ? `${id}-problem` : `${id}-hint`}>
      <legend>{t('people.roles')}</legend>
      <p id={`${id}-hint`} className="hint">
        {t('people.rolesHint')}
      </p>
      {problem && (
        <p id={`${id}-problem`} className="field-problem">
          {problem}
        </p>
      )}
      {grantableRoles(user).map((role) => (
        <Checkbox
          key={role}
          name="roles"
          label={label(l.role, role)}
          checked={selected.includes(role)}
          onChange={(on) => toggle(role, on)}
        />
      ))}
    </fieldset>
  );
}

function PersonForm(props: {
  agencyOptions: readonly { value: string; label: string }[];
  initialAgency: string;
  initialRoles: string[];
  onCancel: () => void;
  onCreated: (person: Person, credential: IssuedCredential) => void;
}): ReactNode {
  const { user } = useSession();
  const { t, agencyName } = useI18n();
  const [userId, setUserId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [agencyId, setAgencyId] = useState(props.initialAgency);
  const [roles, setRoles] = useState<string[]>(props.initialRoles);
  const [language, setLanguage] = useState<'en' | 'fr'>('en');
  const [credential, setCredential] = useState<Credential>('CREDENTIAL_LINK');
  const { busy, error, setError, submit } = useSubmission();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const create = async (event: SyntheticEvent) => {
    event.preventDefault();
    // Without an agency the gateway would put the person in the administrator's own: ask instead.
    if (choosesAgency(user) && !agencyId) {
      setError(
        new ApiError(400, 'invalid_argument', 'choose an agency', [], [{ pointer: '/agencyId', detail: 'required' }]),
      );
      return;
    }
    await submit(async () => {
      const answer = await identity.createPerson({
        userId: userId.trim(),
        displayName: displayName.trim(),
        ...(email.trim() ? { email: email.trim() } : {}),
        agencyId: choosesAgency(user) ? agencyId : user.agencyId,
        roles,
        language,
        credential,
      });
      if (answer.person && answer.credential) props.onCreated(answer.person, answer.credential);
    });
  };

  return (
    <FieldProblemsProvider error={error}>
      <form noValidate className="card" aria-labelledby="person-form-title" onSubmit={(e) => void create(e)}>
        <h2 id="person-form-title" tabIndex={-1} ref={heading}>
          {t('people.add')}
        </h2>
        <div className="row">
          <TextField
            label={t('people.name')}
            value={displayName}
            onChange={setDisplayName}
            required
            field="/displayName"
          />
          <TextField
            label={t('people.userId')}
            hint={t('people.userIdHint')}
            value={userId}
            onChange={setUserId}
            required
            field="/userId"
          />
        </div>
        <div className="row">
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
          <SelectField
            label={t('people.language')}
            field="/language"
            value={language}
            onChange={setLanguage}
            options={[
              { value: 'en', label: 'English', lang: 'en' },
              { value: 'fr', label: 'Français', lang: 'fr' },
            ]}
          />
          <TextField
            label={`${t('people.email')} (${t('common.optional')})`}
            type="email"
            value={email}
            onChange={setEmail}
            field="/email"
          />
        </div>
        <RolesField selected={roles} onChange={setRoles} />
        <CredentialChoice value={credential} onChange={setCredential} />
        {error !== undefined && <ErrorNotice error={error} fieldsShown />}
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t('people.create')}
          </button>
        </div>
      </form>
    </FieldProblemsProvider>
  );
}

/**
 * A password or link just issued: shown this once, to hand over by a safe way. The gateway
 * keeps only its digest, so nobody can show it again; a lost one is replaced by a reset.
 */
function CredentialNotice(props: { person: Person; credential: IssuedCredential; onDone: () => void }): ReactNode {
  const { t, language } = useI18n();
  const { credential, person } = props;
  const link = credential.kind === 'CREDENTIAL_LINK';
  const secret = link ? `${window.location.origin}/set-password#${credential.linkToken}` : credential.temporaryPassword;
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  const copy = () =>
    void navigator.clipboard?.writeText(secret).then(
      () => setCopied(true),
      () => undefined,
    );
  return (
    <div className="card credential" role="region" aria-labelledby="credential-title" tabIndex={-1} ref={box}>
      <h2 id="credential-title">
        {link
          ? t('people.issued.link', { user: person.userId })
          : t('people.issued.temporary', { user: person.userId })}
      </h2>
      <p className="notice">{t('people.issued.once')}</p>
      <p>
        <code className="secret" data-testid="issued-credential">
          {secret}
        </code>
      </p>
      <p className="muted">
        {link
          ? t('people.issued.linkHint', { expires: dateTime(credential.expiresAt, language) })
          : t('people.issued.temporaryHint')}
      </p>
      <div className="actions">
        <button type="button" onClick={copy}>
          {t('people.issued.copy')}
        </button>
        <button type="button" className="primary" onClick={props.onDone}>
          {t('people.issued.done')}
        </button>
      </div>
      <div role="status">{copied && <p>{t('people.issued.copied')}</p>}</div>
    </div>
  );
}

/** One person: their details and roles, disable/enable, a new password, identity-provider links, sessions. */
function PersonPanel(props: {
  person: Person;
  onChanged: () => void;
  onIssued: (person: Person, credential: IssuedCredential) => void;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { user } = useSession();
  const [person, setPerson] = useState(props.person);
  const [done, setDone] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const changed = (next: Person | undefined, message: string) => {
    if (next) setPerson(next);
    setDone(message);
    props.onChanged();
  };
  const self = person.userId === user.userId;
  return (
    <div className="card" role="region" aria-labelledby="person-panel-title">
      <h2 id="person-panel-title" tabIndex={-1} ref={heading}>
        {t('people.managing', { name: person.displayName })}
      </h2>
      <div role="status" aria-live="polite">
        {done && <p className="notice notice-ok">{done}</p>}
      </div>
      <EditPerson person={person} onSaved={(next) => changed(next, t('people.saved'))} />
      {!self && <DisableEnable person={person} onChanged={changed} />}
      <ResetPassword
        person={person}
        onIssued={(next, credential) => {
          changed(next, t('people.resetDone'));
          props.onIssued(next ?? person, credential);
        }}
      />
      <OidcLinks person={person} onChanged={changed} />
      <Sessions person={person} onEnded={(n) => setDone(t('people.sessionsEnded', { n }))} />
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          {t('people.close')}
        </button>
      </div>
    </div>
  );
}

function EditPerson({ person, onSaved }: { person: Person; onSaved: (person: Person | undefined) => void }): ReactNode {
  const { t } = useI18n();
  const [displayName, setDisplayName] = useState(person.displayName);
  const [email, setEmail] = useState(person.email);
  const [language, setLanguage] = useState(person.language === 'fr' ? 'fr' : 'en');
  const [roles, setRoles] = useState<string[]>([...person.roles]);
  const { busy, error, submit } = useSubmission();
  const save = async (event: SyntheticEvent) => {
    event.preventDefault();
    await submit(async () => {
      const answer = await identity.updatePerson({
        userId: person.userId,
        displayName: displayName.trim(),
        ...(email.trim() ? { email: email.trim() } : {}),
        language,
        roles,
      });
      onSaved(answer.person);
    });
  };
  return (
    <FieldProblemsProvider error={error}>
      <form noValidate className="subform" aria-labelledby="edit-person-title" onSubmit={(e) => void save(e)}>
        <h3 id="edit-person-title">{t('people.details')}</h3>
        <div className="row">
          <TextField label={t('people.name')} value={displayName} onChange={setDisplayName} field="/displayName" />
          <TextField
            label={`${t('people.email')} (${t('common.optional')})`}
            type="email"
            value={email}
            onChange={setEmail}
            field="/email"
          />
          <SelectField
            label={t('people.language')}
            field="/language"
            value={language}
            onChange={setLanguage}
            options={[
              { value: 'en', label: 'English', lang: 'en' },
              { value: 'fr', label: 'Français', lang: 'fr' },
            ]}
          />
        </div>
        <RolesField selected={roles} onChange={setRoles} />
        {error !== undefined && <ErrorNotice error={error} fieldsShown />}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('people.saveChanges')}
          </button>
        </div>
      </form>
    </FieldProblemsProvider>
  );
}

function DisableEnable(props: {
  person: Person;
  onChanged: (person: Person | undefined, message: string) => void;
}): ReactNode {
  const { t } = useI18n();
  const { person } = props;
  const [confirming, setConfirming] = useState(false);
  const { busy, error, submit } = useSubmission();
  const disable = () =>
    submit(async () => {
      const answer = await identity.disablePerson({ userId: person.userId });
      setConfirming(false);
      props.onChanged(answer.person, t('people.disabledDone', { n: answer.sessionsEnded ?? 0 }));
    });
  const enable = () =>
    submit(async () => {
      const answer = await identity.enablePerson({ userId: person.userId });
      props.onChanged(answer.person, t('people.enabledDone'));
    });
  return (
    <div className="subform">
      <h3>{t('people.access')}</h3>
      {person.disabledAt ? (
        <button type="button" disabled={busy} onClick={() => void enable()}>
          {t('people.enable')}
        </button>
      ) : (
        <ConfirmStep
          label={t('people.disableConfirmTitle')}
          start={t('people.disable')}
          question={t('people.disableConfirm', { name: person.displayName })}
          yes={t('people.disableYes')}
          busy={busy}
          confirming={confirming}
          onConfirming={setConfirming}
          onYes={() => void disable()}
        />
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}

function ResetPassword(props: {
  person: Person;
  onIssued: (person: Person | undefined, credential: IssuedCredential) => void;
}): ReactNode {
  const { t } = useI18n();
  const [credential, setCredential] = useState<Credential>('CREDENTIAL_LINK');
  const [confirming, setConfirming] = useState(false);
  const { busy, error, submit } = useSubmission();
  const reset = () =>
    submit(async () => {
      const answer = await identity.resetPassword({ userId: props.person.userId, credential });
      setConfirming(false);
      if (answer.credential) props.onIssued(answer.person, answer.credential);
    });
  return (
    <div className="subform">
      <h3>{t('people.reset')}</h3>
      <p className="hint">{t('people.resetHint')}</p>
      <CredentialChoice value={credential} onChange={setCredential} label={t('people.resetCredential')} />
      <ConfirmStep
        label={t('people.reset')}
        start={t('people.reset')}
        question={t('people.resetConfirm', { name: props.person.displayName })}
        yes={t('people.resetYes')}
        busy={busy}
        confirming={confirming}
        onConfirming={setConfirming}
        onYes={() => void reset()}
      />
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}

function OidcLinks(props: {
  person: Person;
  onChanged: (person: Person | undefined, message: string) => void;
}): ReactNode {
  const { t } = useI18n();
  const { person } = props;
  const [issuer, setIssuer] = useState('');
  const [subject, setSubject] = useState('');
  const { busy, error, submit } = useSubmission();
  const link = async (event: SyntheticEvent) => {
    event.preventDefault();
    await submit(async () => {
      const answer = await identity.linkOidcSubject({
        userId: person.userId,
        subject: { issuer: issuer.trim(), subject: subject.trim() },
      });
      setIssuer('');
      setSubject('');
      props.onChanged(answer.person, t('people.oidcLinked'));
    });
  };
  const unlink = (target: { issuer: string; subject: string }) =>
    submit(async () => {
      const answer = await identity.unlinkOidcSubject({ userId: person.userId, subject: target });
      props.onChanged(answer.person, t('people.oidcUnlinked'));
    });
  return (
    <FieldProblemsProvider error={error}>
      <form noValidate className="subform" aria-labelledby="oidc-title" onSubmit={(e) => void link(e)}>
        <h3 id="oidc-title">{t('people.oidc')}</h3>
        <p className="hint">{t('people.oidcHint')}</p>
        {person.oidcSubjects.length === 0 ? (
          <p>{t('people.oidcNone')}</p>
        ) : (
          <ul>
            {person.oidcSubjects.map((s) => (
              <li key={`${s.issuer} ${s.subject}`}>
                <code>{s.issuer}</code> — <code>{s.subject}</code>{' '}
                <button type="button" disabled={busy} onClick={() => void unlink(s)}>
                  {t('people.oidcUnlink')}
                  <span className="visually-hidden"> {s.subject}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="row">
          <TextField
            label={t('people.oidcIssuer')}
            type="url"
            value={issuer}
            onChange={setIssuer}
            field="/subject/issuer"
          />
          <TextField label={t('people.oidcSubject')} value={subject} onChange={setSubject} field="/subject/subject" />
        </div>
        {error !== undefined && <ErrorNotice error={error} fieldsShown />}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {t('people.oidcLink')}
          </button>
        </div>
      </form>
    </FieldProblemsProvider>
  );
}

function Sessions({ person, onEnded }: { person: Person; onEnded: (n: number) => void }): ReactNode {
  const { t, language } = useI18n();
  const sessions = useGet(identity.listSessions({ userId: person.userId }));
  const { busy, error, submit } = useSubmission();
  const end = (session?: PersonSession) =>
    submit(async () => {
      const answer = await identity.endSessions({
        userId: person.userId,
        ...(session ? { sessionId: session.sessionId } : {}),
      });
      onEnded(answer.sessionsEnded ?? 0);
      sessions.reload();
    });
  const open = sessions.data?.sessions ?? [];
  return (
    <div className="subform">
      <h3>{t('people.sessions')}</h3>
      {sessions.error && <ErrorNotice error={sessions.error} onRetry={sessions.reload} />}
      {!sessions.data && sessions.loading && <Loading />}
      {sessions.data && open.length === 0 && <p>{t('people.sessionsNone')}</p>}
      {open.length > 0 && (
        <>
          <ul>
            {open.map((session, i) => (
              <li key={session.sessionId}>
                {t('people.sessionItem', {
                  since: dateTime(session.createdAt, language),
                  until: dateTime(session.expiresAt, language),
                })}{' '}
                <button type="button" disabled={busy} onClick={() => void end(session)}>
                  {t('people.sessionEnd')}
                  <span className="visually-hidden"> {i + 1}</span>
                </button>
              </li>
            ))}
          </ul>
          <button type="button" disabled={busy} onClick={() => void end()}>
            {t('people.sessionsEndAll')}
          </button>
        </>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
