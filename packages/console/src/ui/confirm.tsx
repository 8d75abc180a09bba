import type { ReactNode } from 'react';
import { useI18n } from '../i18n/context.tsx';

/**
 * An action that asks once more: its button (`start`), then the question with Cancel and the
 * action itself (`yes`), grouped and named (`label`) for a screen reader.
 */
export function ConfirmStep(props: {
  label: string;
  start: string;
  question: string;
  yes: string;
  busy: boolean;
  confirming: boolean;
  onConfirming: (confirming: boolean) => void;
  onYes: () => void;
}): ReactNode {
  const { t } = useI18n();
  if (!props.confirming)
    return (
      <button type="button" onClick={() => props.onConfirming(true)}>
        {props.start}
      </button>
    );
  return (
    <div className="notice" role="group" aria-label={props.label}>
      <p>{props.question}</p>
      <div className="actions">
        <button type="button" onClick={() => props.onConfirming(false)}>
          {t('common.cancel')}
        </button>
        <button type="button" className="primary" disabled={props.busy} onClick={props.onYes}>
          {props.yes}
        </button>
      </div>
    </div>
  );
}
