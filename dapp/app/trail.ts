/** The audit trail's events in words. */
import type { NamedEvent } from '../src/ehr';
import { namedScope } from '../src/ehr';
import type { Session } from './session';

/** One event, described. */
export interface Described {
  what: string;
  who?: string;
  detail: string;
  denied?: boolean;
  emergency?: boolean;
}

const variant = (value: unknown): [string, unknown] => {
  if (typeof value === 'string') return [value, null];
  const [key, data] = Object.entries(value as Record<string, unknown>)[0] ?? ['?', null];
  return [key.charAt(0).toUpperCase() + key.slice(1), data];
};

/** `event` in words, with the account it names and whether it is a denial or an emergency access. */
export function describeEvent(event: NamedEvent, session: Session): Described {
  const a = event.args as Record<string, unknown>;
  switch (event.name) {
    case 'AccessRequested':
    case 'LegacyAccessRequested': {
      const [decision, reason] = variant(a.decision);
      const emergency = Boolean(a.emergency);
      const mode = variant(a.mode)[0].toLowerCase();
      if (decision === 'Denied') {
        const denial = session.denial(String(reason));
        return { what: `${mode} request denied`, who: a.accessor as string, detail: `${a.category}: ${denial.reason} — ${denial.docs}`, denied: true };
      }
      return { what: `${mode} request granted${emergency ? ' (EMERGENCY access)' : ''}`, who: a.accessor as string, detail: String(a.category), emergency };
    }
    case 'AccessGranted': {
      const scope = namedScope(a.scope as { read: number; write: number });
      return { what: 'access granted', who: a.provider as string, detail: `read: ${scope.read.join(', ') || '—'}; add: ${scope.write.join(', ') || '—'}; ${a.expiresAt === null ? 'until revoked' : `until block ${a.expiresAt}`}` };
    }
    case 'AccessRevoked':
      return { what: 'access revoked', who: a.provider as string, detail: '' };
    case 'RecordAdded':
      return { what: 'record added', who: a.author as string, detail: `record ${a.recordId} (${a.category})` };
    case 'RecordErased':
      return { what: 'record erased', detail: `record ${a.recordId}` };
    case 'PatientRegistered':
      return { what: 'registered as a patient', detail: '' };
    case 'EmergencyOpened':
      return { what: 'EMERGENCY access opened', who: a.clinician as string, detail: `case ${a.case}, ${variant(a.purpose)[0]}, until block ${a.expiresAt}; review due by block ${a.reviewDue}`, emergency: true };
    case 'EmergencyDenied': {
      const denial = session.denial(variant(a.reason)[0]);
      return { what: 'emergency access denied', who: a.clinician as string, detail: `${denial.reason} — ${denial.docs}`, denied: true };
    }
    case 'EmergencyClosed':
      return { what: 'emergency access closed', detail: `case ${a.case}` };
    case 'EmergencyReviewed':
      return { what: 'emergency access reviewed', who: a.auditor as string, detail: `case ${a.case}: ${variant(a.verdict)[0]} (${variant(a.reason)[0]})` };
    case 'EmergencyReviewOverdue':
      return { what: 'emergency review overdue', who: a.clinician as string, detail: `case ${a.case}, due by block ${a.reviewDue}` };
    case 'EmergencyKeyOptIn':
      return { what: a.optedIn ? 'opted in to emergency access' : 'opted out of emergency access', detail: '' };
    case 'ScoresAccepted':
      return { what: 'risk score accepted (sealed)', detail: 'only a commitment is on chain; open the report above' };
    default:
      return { what: event.name, detail: '' };
  }
}
