import { useEffect, useRef, useState } from 'react';

// Small hooks more than one console component needs.

/**
 * useModal opens a <dialog> as a modal when it mounts (focus moves into it, the page behind is
 * inert) and gives focus back to what had it when it unmounts. The dialog's owner mounts it to open
 * it and unmounts it to close it.
 */
export function useModal() {
  const ref = useRef<HTMLDialogElement>(null);
  // Read at the first render, before the dialog takes focus: what opened it.
  const opener = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const back = opener.current;
    return () => {
      if (back?.isConnected) back.focus();
    };
  }, []);
  return ref;
}

/** useDebounced is value once it has stopped changing for ms. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}
