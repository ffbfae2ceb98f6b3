// Keyboard shortcuts ("/", "j", "k", Escape) must not fire while the user types in a field.

/** What a key event's target needs for the check (an `HTMLElement`, or a stand-in in tests). */
export interface KeyTarget {
  tagName?: string;
  isContentEditable?: boolean;
}

/** Whether a key event's target takes text: an input, textarea, select or an editable element. */
export function isTyping(target: EventTarget | KeyTarget | null | undefined): boolean {
  if (!target) return false;
  const t = target as KeyTarget;
  return t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable === true;
}
