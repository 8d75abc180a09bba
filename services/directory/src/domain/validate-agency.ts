import { agencyKinds, serviceTypes, weekdays, type AgencyListing } from './agency.ts';
import { checkFsa, knownMunicipalities, knownRegions } from './geography.ts';
import { timePattern } from './hours.ts';
import type { Violations } from './violations.ts';

const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const languageTag = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/**
 * Checks a listing against the directory's rules, recording every problem (not just the
 * first), so one answer tells an administrator everything to fix. `at` turns a listing
 * field into the path the caller knows it by (a gRPC field, an HSDS JSON path).
 */
export function validateListing(
  listing: AgencyListing,
  violations: Violations,
  at: (field: string) => string = (field) => `agency.${field}`,
): void {
  if (!slug.test(listing.id)) violations.add(at('id'), 'use a lowercase slug such as "pact-ottawa"');
  if (!listing.name.en.trim()) violations.add(at('name_en'), 'an English name is required');
  if (!listing.name.fr.trim()) violations.add(at('name_fr'), 'a French name is required');
  if (!(agencyKinds as readonly string[]).includes(listing.kind)) {
    violations.add(at('kind'), `unknown kind "${listing.kind}"; one of ${agencyKinds.join(', ')}`);
  }
  if (listing.services.length === 0) violations.add(at('services'), 'list at least one service');
  listing.services.forEach((service, i) => {
    if (!(serviceTypes as readonly string[]).includes(service)) {
      violations.add(at(`services[${i}]`), `unknown service "${service}"; one of ${serviceTypes.join(', ')}`);
    }
  });

  const { coverage } = listing;
  if (!coverage.provinceWide && coverage.regions.length + coverage.municipalities.length + coverage.fsas.length === 0) {
    violations.add(at('coverage'), 'cover the whole province, or list regions, municipalities or FSAs');
  }
  coverage.regions.forEach((region, i) => {
    if (!knownRegions.has(region)) violations.add(at(`coverage.regions[${i}]`), `unknown region "${region}"`);
  });
  coverage.municipalities.forEach((municipality, i) => {
    if (!knownMunicipalities.has(municipality)) {
      violations.add(at(`coverage.municipalities[${i}]`), `unknown municipality "${municipality}"`);
    }
  });
  coverage.fsas.forEach((fsa, i) => {
    const normal = checkFsa(fsa, at(`coverage.fsas[${i}]`), violations);
    if (normal && normal !== fsa) violations.add(at(`coverage.fsas[${i}]`), `write FSAs in capitals ("${normal}")`);
  });

  if (listing.languages.length === 0) violations.add(at('languages'), 'list at least one language');
  listing.languages.forEach((language, i) => {
    if (!languageTag.test(language))
      violations.add(at(`languages[${i}]`), `"${language}" is not a language code such as "fr"`);
  });

  if (!listing.hours.alwaysOpen) {
    if (listing.hours.periods.length === 0) violations.add(at('hours'), 'give opening periods, or mark it open 24/7');
    listing.hours.periods.forEach((period, i) => {
      if (!(weekdays as readonly string[]).includes(period.day)) {
        violations.add(at(`hours.periods[${i}].day`), `"${period.day}" is not one of ${weekdays.join(', ')}`);
      }
      for (const end of ['opens', 'closes'] as const) {
        if (!timePattern.test(period[end]))
          violations.add(at(`hours.periods[${i}].${end}`), 'use HH:MM, 24-hour clock');
      }
      if (period.opens === period.closes)
        violations.add(at(`hours.periods[${i}]`), 'opens and closes at the same time');
    });
  }

  if (!Number.isInteger(listing.capacity) || listing.capacity < 0) {
    violations.add(at('capacity'), 'a whole number, 0 or more');
  }
  const sla = listing.sla;
  for (const [field, value] of Object.entries({
    acknowledge_urgent_minutes: sla.acknowledgeUrgentMinutes,
    accept_urgent_minutes: sla.acceptUrgentMinutes,
    acknowledge_standard_minutes: sla.acknowledgeStandardMinutes,
    accept_standard_minutes: sla.acceptStandardMinutes,
  })) {
    if (!Number.isInteger(value) || value <= 0) violations.add(at(`sla.${field}`), 'a whole number of minutes above 0');
    // An urgent referral waits for no one longer than a week: a longer target is a mistake.
    else if (field.includes('urgent') && value > 7 * 24 * 60) {
      violations.add(at(`sla.${field}`), 'an urgent target of at most a week (10080 minutes)');
    }
  }
  if (!listing.hours.alwaysOpen && listing.hours.periods.length === 0) {
    violations.add(at('hours'), 'standard targets count opening hours: give some, or mark the agency always open');
  }
  if (sla.acceptUrgentMinutes < sla.acknowledgeUrgentMinutes) {
    violations.add(at('sla.accept_urgent_minutes'), 'cannot be sooner than the acknowledgement target');
  }
  if (sla.acceptStandardMinutes < sla.acknowledgeStandardMinutes) {
    violations.add(at('sla.accept_standard_minutes'), 'cannot be sooner than the acknowledgement target');
  }
}
