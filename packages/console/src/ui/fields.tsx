import { useId, type ReactNode } from 'react';
import { useFieldProblem } from './field-problems.tsx';

// Form controls that always carry a visible label tied to the control (and a hint, when
// there is one, read with it). What is typed about a person is never offered back by the
// browser's autofill to the next worker at this computer (autocomplete off unless asked).

export function TextField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'password' | 'date' | 'datetime-local' | 'number' | 'email' | 'url' | 'time' | 'tel';
  hint?: string;
  required?: boolean;
  multiline?: boolean;
  autoComplete?: string;
  name?: string;
  min?: string | number;
  /** The JSON pointer of this value in the request: a refusal naming it marks the input. */
  field?: string;
}): ReactNode {
  const id = useId();
  const problem = useFieldProblem(props.field);
  const hintId = props.hint ? `${id}-hint` : undefined;
  const problemId = problem ? `${id}-problem` : undefined;
  const describedBy = [hintId, problemId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} className="hint">
          {props.hint}
        </p>
      )}
      {problem && (
        <p id={problemId} className="field-problem">
          {problem}
        </p>
      )}
      {props.multiline ? (
        <textarea
          id={id}
          name={props.name}
          value={props.value}
          rows={3}
          aria-describedby={describedBy}
          aria-invalid={problem ? true : undefined}
          required={props.required}
          autoComplete={props.autoComplete ?? 'off'}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          id={id}
          name={props.name}
          type={props.type ?? 'text'}
          value={props.value}
          min={props.min}
          aria-describedby={describedBy}
          aria-invalid={problem ? true : undefined}
          required={props.required}
          autoComplete={props.autoComplete ?? 'off'}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </div>
  );
}

export function SelectField<T extends string>(props: {
  label: string;
  value: T;
  options: readonly { value: T; label: string; lang?: string }[];
  onChange: (value: T) => void;
  hint?: string;
  name?: string;
  /** The JSON pointer of this value in the request: a refusal naming it marks the select. */
  field?: string;
}): ReactNode {
  const id = useId();
  const problem = useFieldProblem(props.field);
  const hintId = props.hint ? `${id}-hint` : undefined;
  const problemId = problem ? `${id}-problem` : undefined;
  const describedBy = [hintId, problemId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} className="hint">
          {props.hint}
        </p>
      )}
      {problem && (
        <p id={problemId} className="field-problem">
          {problem}
        </p>
      )}
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-describedby={describedBy}
        aria-invalid={problem ? true : undefined}
        onChange={(e) => props.onChange(e.target.value as T)}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value} lang={option.lang}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Checkbox(props: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: string;
  name?: string;
  disabled?: boolean;
}): ReactNode {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  return (
    <div className="check">
      <input
        id={id}
        type="checkbox"
        name={props.name}
        checked={props.checked}
        disabled={props.disabled}
        aria-describedby={hintId}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <label htmlFor={id}>
        {props.label}
        {props.hint && (
          <span id={hintId} className="hint">
            {props.hint}
          </span>
        )}
      </label>
    </div>
  );
}

/** Several checkboxes under one legend: the set of values ticked. */
export function CheckboxGroup<T extends string>(props: {
  legend: string;
  options: readonly { value: T; label: ReactNode; hint?: string }[];
  selected: readonly T[];
  onChange: (selected: T[]) => void;
  name?: string;
  columns?: boolean;
}): ReactNode {
  const toggle = (value: T, on: boolean) =>
    props.onChange(on ? [...props.selected, value] : props.selected.filter((v) => v !== value));
  return (
    <fieldset className={props.columns ? 'group columns' : 'group'}>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <Checkbox
          key={option.value}
          name={props.name}
          label={option.label}
          hint={option.hint}
          checked={props.selected.includes(option.value)}
          onChange={(on) => toggle(option.value, on)}
        />
      ))}
    </fieldset>
  );
}

/** A table that scrolls sideways on a phone, reachable and scrollable by keyboard. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }): ReactNode {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
