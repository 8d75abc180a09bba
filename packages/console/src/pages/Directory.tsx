import { agencyKinds, serviceTypes } from '@passage/vocabulary';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { useGet, useSubmission } from '../api/hooks.ts';
import { directory, type Agency, type AgencyInput, type WeeklyPeriod } from '../api/generated.ts';
import { Link } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { languageName } from '../i18n/format.ts';
import { coveredPlaces, days, label } from '../i18n/labels.ts';
import { ErrorNotice, Loading, Success } from '../ui/feedback.tsx';
import { saveFile } from '../ui/download.ts';
import { FieldProblemsProvider } from '../ui/field-problems.tsx';
import { Checkbox, CheckboxGroup, SelectField, TableScroll, TextField } from '../ui/fields.tsx';

/** The directory for administrators: every listing, its coverage, hours, languages and targets; HSDS in and out. */
export function Directory(): ReactNode {
  const { t, l, language } = useI18n();
  const list = useGet(directory.listAgencies({}));
  const [editing, setEditing] = useState<Agency | 'new' | undefined>(undefined);
  const [saved, setSaved] = useState('');
  // A listing just added: its people come next (its first supervisor), on the people screen.
  const [added, setAdded] = useState<Agency | undefined>(undefined);
  const { reloadAgencies } = useSession();
  const agencies = list.data?.agencies ?? [];
  const name = (a: Agency) => (language === 'fr' ? a.nameFr : a.nameEn);
  return (
    <section>
      <h1 tabIndex={-1}>{t('directory.title')}</h1>
      {saved && <Success>{saved}</Success>}
      {added && (
        <div className="actions">
          <Link
            to={`/people?${new URLSearchParams({ agency: added.id, add: 'supervisor' }).toString()}`}
            className="button"
          >
            {t('directory.addSupervisor', { agency: name(added) })}
          </Link>
        </div>
      )}
      {editing && (
        <AgencyForm
          // A new form for each listing: nothing of the one edited before carries over.
          key={editing === 'new' ? 'new' : editing.id}
          agency={editing === 'new' ? undefined : editing}
          taken={new Set(agencies.map((a) => a.id))}
          onCancel={() => setEditing(undefined)}
          onSaved={(agency) => {
            setAdded(editing === 'new' ? agency : undefined);
            setEditing(undefined);
            reloadAgencies();
            setSaved(t('directory.saved', { agency: name(agency) }));
            list.reload();
          }}
        />
      )}
      <h2>{t('directory.list')}</h2>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            setSaved('');
            setAdded(undefined);
            setEditing('new');
          }}
        >
          {t('directory.add')}
        </button>
      </div>
      {list.error && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.loading && <Loading />}
      {agencies.length > 0 && (
        <TableScroll label={t('directory.list')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('directory.name')}</th>
                <th scope="col">{t('directory.kind')}</th>
                <th scope="col">{t('directory.coverage')}</th>
                <th scope="col">{t('directory.languages')}</th>
                <th scope="col">{t('directory.hours')}</th>
                <th scope="col">{t('directory.accepting')}</th>
                <th scope="col">{t('directory.targets')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('common.open')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {agencies.map((agency) => (
                <tr key={agency.id}>
                  <th scope="row">{name(agency)}</th>
                  <td>{label(l.kind, agency.kind)}</td>
                  <td>
                    {agency.coverage?.provinceWide
                      ? t('directory.provinceWide')
                      : coveredPlaces(l, agency.coverage?.regions, agency.coverage?.municipalities).join(', ')}
                  </td>
                  <td>{(agency.languages ?? []).map((code) => languageName(code, language)).join(', ')}</td>
                  <td>{hoursText(agency, l.day)}</td>
                  <td>{agency.acceptingReferrals ? t('common.yes') : t('common.no')}</td>
                  <td>
                    {[
                      agency.sla?.acknowledgeUrgentMinutes,
                      agency.sla?.acceptUrgentMinutes,
                      agency.sla?.acknowledgeStandardMinutes,
                      agency.sla?.acceptStandardMinutes,
                    ]
                      .map((m) => m ?? '—')
                      .join(' / ')}
                  </td>
                  <td>
                    <button type="button" onClick={() => setEditing(agency)}>
                      {t('directory.editShort')}
                      <span className="visually-hidden"> {name(agency)}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <Hsds onImported={list.reload} />
    </section>
  );
}

function hoursText(agency: Agency, dayNames: Readonly<Record<string, string>>): string {
  if (agency.hours?.alwaysOpen) return '24/7';
  return (agency.hours?.periods ?? [])
    .map((p) => `${(dayNames[p.day] ?? p.day).slice(0, 3)} ${p.opens}–${p.closes}`)
    .join(', ');
}

const csv = (items: readonly string[] | undefined) => (items ?? []).join(', ');
const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function AgencyForm(props: {
  agency: Agency | undefined;
  /** Identifiers already listed: adding one of them would replace that agency. */
  taken: ReadonlySet<string>;
  onCancel: () => void;
  onSaved: (agency: Agency) => void;
}): ReactNode {
  const { t, l, language } = useI18n();
  const a = props.agency;
  const [id, setId] = useState(a?.id ?? '');
  const [nameEn, setNameEn] = useState(a?.nameEn ?? '');
  const [nameFr, setNameFr] = useState(a?.nameFr ?? '');
  const [kind, setKind] = useState<string>(a?.kind ?? 'coalition');
  const [services, setServices] = useState<string[]>([...(a?.services ?? [])]);
  const [provinceWide, setProvinceWide] = useState(a?.coverage?.provinceWide ?? false);
  const [regions, setRegions] = useState(csv(a?.coverage?.regions));
  const [municipalities, setMunicipalities] = useState(csv(a?.coverage?.municipalities));
  const [fsas, setFsas] = useState(csv(a?.coverage?.fsas));
  const [languages, setLanguages] = useState(csv(a?.languages ?? ['en']));
  const [alwaysOpen, setAlwaysOpen] = useState(a?.hours?.alwaysOpen ?? false);
  const [periods, setPeriods] = useState<WeeklyPeriod[]>([...(a?.hours?.periods ?? [])]);
  const [accepting, setAccepting] = useState(a?.acceptingReferrals ?? true);
  const [capacity, setCapacity] = useState(String(a?.capacity ?? 0));
  const [sla, setSla] = useState({
    acknowledgeUrgentMinutes: String(a?.sla?.acknowledgeUrgentMinutes ?? 60),
    acceptUrgentMinutes: String(a?.sla?.acceptUrgentMinutes ?? 240),
    acknowledgeStandardMinutes: String(a?.sla?.acknowledgeStandardMinutes ?? 480),
    acceptStandardMinutes: String(a?.sla?.acceptStandardMinutes ?? 1440),
  });
  const [contact, setContact] = useState({
    phone: a?.contact?.phone ?? '',
    email: a?.contact?.email ?? '',
    website: a?.contact?.website ?? '',
  });
  const { busy, error, setError, submit } = useSubmission();

  const save = async (event: SyntheticEvent) => {
    event.preventDefault();
    if (!a && props.taken.has(id.trim())) {
      setError(new ApiError(409, 'already_exists', `an agency ${id.trim()} is already listed`));
      return;
    }
    await submit(async () => {
      const agency: AgencyInput = {
        id: id.trim(),
        nameEn,
        nameFr,
        kind,
        services,
        coverage: { provinceWide, regions: list(regions), municipalities: list(municipalities), fsas: list(fsas) },
        languages: list(languages),
        hours: { alwaysOpen, periods: alwaysOpen ? [] : periods },
        acceptingReferrals: accepting,
        capacity: Number(capacity) || 0,
        sla: {
          acknowledgeUrgentMinutes: Number(sla.acknowledgeUrgentMinutes),
          acceptUrgentMinutes: Number(sla.acceptUrgentMinutes),
          acknowledgeStandardMinutes: Number(sla.acknowledgeStandardMinutes),
          acceptStandardMinutes: Number(sla.acceptStandardMinutes),
        },
        contact,
        ...(a?.version !== undefined ? { version: a.version } : {}),
      };
      const saved = await directory.upsertAgency({ agency });
      if (saved.agency) props.onSaved(saved.agency);
    });
  };
  const setPeriod = (index: number, patch: Partial<WeeklyPeriod>) =>
    setPeriods(periods.map((p, i) => (i === index ? { ...p, ...patch } : p)));

  return (
    <FieldProblemsProvider error={error}>
      <form
        noValidate
        onSubmit={(e) => void save(e)}
        className="card"
        aria-label={a ? t('directory.edit', { agency: language === 'fr' ? a.nameFr : a.nameEn }) : t('directory.add')}
      >
        <h2>{a ? t('directory.edit', { agency: language === 'fr' ? a.nameFr : a.nameEn }) : t('directory.add')}</h2>
        {!a && <TextField label={t('directory.id')} value={id} onChange={setId} required field="/id" />}
        <div className="row">
          <TextField label={t('directory.nameEn')} value={nameEn} onChange={setNameEn} required field="/nameEn" />
          <TextField label={t('directory.nameFr')} value={nameFr} onChange={setNameFr} required field="/nameFr" />
          <SelectField
            label={t('directory.kind')}
            value={kind}
            onChange={setKind}
            options={agencyKinds.map((k) => ({ value: k, label: l.kind[k] }))}
          />
        </div>
        <CheckboxGroup
          legend={t('directory.services')}
          columns
          options={serviceTypes.map((s) => ({ value: s, label: l.need[s] }))}
          selected={services}
          onChange={setServices}
        />
        <fieldset className="group">
          <legend>{t('directory.coverage')}</legend>
          <Checkbox label={t('directory.provinceWide')} checked={provinceWide} onChange={setProvinceWide} />
          <TextField label={t('directory.regions')} value={regions} onChange={setRegions} field="/coverage/regions" />
          <TextField
            label={t('directory.municipalities')}
            value={municipalities}
            onChange={setMunicipalities}
            field="/coverage/municipalities"
          />
          <TextField label={t('directory.fsas')} value={fsas} onChange={setFsas} field="/coverage/fsas" />
        </fieldset>
        <TextField
          label={t('directory.languages')}
          hint={t('directory.languagesHelp')}
          value={languages}
          onChange={setLanguages}
        />
        <fieldset className="group">
          <legend>{t('directory.hours')}</legend>
          <Checkbox label={t('directory.alwaysOpen')} checked={alwaysOpen} onChange={setAlwaysOpen} />
          {!alwaysOpen && (
            <>
              {periods.map((period, i) => (
                <div className="row period" key={i}>
                  <SelectField
                    label={t('directory.day')}
                    value={period.day}
                    onChange={(day) => setPeriod(i, { day })}
                    options={days.map((d) => ({ value: d, label: l.day[d] }))}
                  />
                  <TextField
                    label={t('directory.opens')}
                    type="time"
                    value={period.opens}
                    onChange={(opens) => setPeriod(i, { opens })}
                  />
                  <TextField
                    label={t('directory.closes')}
                    type="time"
                    value={period.closes}
                    onChange={(closes) => setPeriod(i, { closes })}
                  />
                  <div className="field">
                    <button type="button" onClick={() => setPeriods(periods.filter((_, j) => j !== i))}>
                      {t('directory.removePeriod')}
                      <span className="visually-hidden">
                        {' '}
                        {l.day[period.day as (typeof days)[number]] ?? period.day} {period.opens}–{period.closes}
                      </span>
                    </button>
                  </div>
                </div>
              ))}
              <button
                type="button"
                onClick={() => setPeriods([...periods, { day: 'mon', opens: '09:00', closes: '17:00' }])}
              >
                {t('directory.addPeriod')}
              </button>
            </>
          )}
        </fieldset>
        <fieldset className="group">
          <legend>{t('directory.targets')}</legend>
          <div className="row">
            <TextField
              label={t('directory.ackUrgent')}
              type="number"
              min={1}
              value={sla.acknowledgeUrgentMinutes}
              field="/sla/acknowledgeUrgentMinutes"
              onChange={(v) => setSla({ ...sla, acknowledgeUrgentMinutes: v })}
            />
            <TextField
              label={t('directory.acceptUrgent')}
              type="number"
              min={1}
              value={sla.acceptUrgentMinutes}
              field="/sla/acceptUrgentMinutes"
              onChange={(v) => setSla({ ...sla, acceptUrgentMinutes: v })}
            />
            <TextField
              label={t('directory.ackStandard')}
              type="number"
              min={1}
              value={sla.acknowledgeStandardMinutes}
              field="/sla/acknowledgeStandardMinutes"
              onChange={(v) => setSla({ ...sla, acknowledgeStandardMinutes: v })}
            />
            <TextField
              label={t('directory.acceptStandard')}
              type="number"
              min={1}
              value={sla.acceptStandardMinutes}
              field="/sla/acceptStandardMinutes"
              onChange={(v) => setSla({ ...sla, acceptStandardMinutes: v })}
            />
          </div>
        </fieldset>
        <div className="row">
          <Checkbox label={t('directory.accepting')} checked={accepting} onChange={setAccepting} />
          <TextField
            label={t('directory.capacity')}
            type="number"
            min={0}
            value={capacity}
            onChange={setCapacity}
            field="/capacity"
          />
        </div>
        <div className="row">
          <TextField
            label={t('directory.phone')}
            type="tel"
            value={contact.phone}
            field="/contact/phone"
            onChange={(phone) => setContact({ ...contact, phone })}
          />
          <TextField
            label={t('directory.email')}
            type="email"
            value={contact.email}
            field="/contact/email"
            onChange={(email) => setContact({ ...contact, email })}
          />
          <TextField
            label={t('directory.website')}
            type="url"
            value={contact.website}
            field="/contact/website"
            onChange={(website) => setContact({ ...contact, website })}
          />
        </div>
        {error !== undefined && <ErrorNotice error={error} />}
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </FieldProblemsProvider>
  );
}

function Hsds({ onImported }: { onImported: () => void }): ReactNode {
  const { t } = useI18n();
  const [file, setFile] = useState<File | undefined>(undefined);
  const [result, setResult] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const exportJson = async () => {
    setError(undefined);
    try {
      const { json } = await directory.exportHsds({}).fetch();
      saveFile('passage-directory-hsds.json', json ?? '{}', 'application/json');
    } catch (failure) {
      setError(failure);
    }
  };
  const importJson = async (event: SyntheticEvent) => {
    event.preventDefault();
    if (!file) return;
    setError(undefined);
    setResult('');
    try {
      const { imported } = await directory.importHsds({ json: await file.text() });
      setResult(t('directory.imported', { n: imported ?? 0 }));
      onImported();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div className="card">
      <h2>{t('directory.hsds')}</h2>
      <div className="actions">
        <button type="button" onClick={() => void exportJson()}>
          {t('directory.export')}
        </button>
      </div>
      <form onSubmit={(e) => void importJson(e)} className="row">
        <div className="field">
          <label htmlFor="hsds-file">{t('directory.importFile')}</label>
          <input
            id="hsds-file"
            type="file"
            accept="application/json,.json"
            onChange={(e) => setFile(e.target.files?.[0])}
          />
        </div>
        <div className="field">
          <button type="submit" disabled={!file}>
            {t('directory.import')}
          </button>
        </div>
      </form>
      {result && <Success>{result}</Success>}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
