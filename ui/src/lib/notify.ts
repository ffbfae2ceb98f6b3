// New-alert and approval notifications: the native notification plugin in the desktop app, the
// Notification API in a browser. Permission is asked once, when the user turns notifications on.
import { isDesktop } from './api';
import type { Alert, Approval } from './types';

export async function requestNotificationPermission(): Promise<boolean> {
  if (isDesktop()) {
    const n = await import('@tauri-apps/plugin-notification');
    if (await n.isPermissionGranted()) return true;
    return (await n.requestPermission()) === 'granted';
  }
  if (typeof Notification === 'undefined') return false;
  if (Notification.permission === 'granted') return true;
  return (await Notification.requestPermission()) === 'granted';
}

export async function notifyAlert(alert: Alert): Promise<void> {
  const title = `Proctor: ${alert.severity} alert`;
  const body = alert.subject ? `${alert.subject}: ${alert.message}` : alert.message;
  try {
    if (isDesktop()) {
      const n = await import('@tauri-apps/plugin-notification');
      if (await n.isPermissionGranted()) n.sendNotification({ title, body });
    } else if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      new Notification(title, { body });
    }
  } catch (err) {
    console.warn('proctor: could not show a notification', err);
  }
}

/** The notification for a call that waits for a person. */
export function approvalNotice(approval: Approval): { title: string; body: string } {
  const who = approval.client ? ` from ${approval.client}` : '';
  return {
    title: 'Proctor: a tool call waits for your approval',
    body: `${approval.tool} on ${approval.worker_id}${who} (${approval.deny_code}). Open Approvals to approve or deny it.`,
  };
}

/**
 * Notifies of a held call. In a browser a click on the notification calls `open` (the Approvals
 * screen). The desktop plugin cannot report a click on desktop systems (its action events are
 * mobile only), so there the caller routes on the next window focus instead (`FocusRoute`).
 * Returns whether a notification was shown.
 */
export async function notifyApproval(approval: Approval, open: () => void): Promise<boolean> {
  const { title, body } = approvalNotice(approval);
  try {
    if (isDesktop()) {
      const n = await import('@tauri-apps/plugin-notification');
      if (!(await n.isPermissionGranted())) return false;
      n.sendNotification({ title, body });
      return true;
    }
    if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      const shown = new Notification(title, { body, tag: `proctor-approval-${approval.id}` });
      shown.onclick = () => {
        window.focus();
        open();
        shown.close();
      };
      return true;
    }
  } catch (err) {
    console.warn('proctor: could not show a notification', err);
  }
  return false;
}

/**
 * "A click on the notification opens the Approvals screen" where clicks cannot be heard: after a
 * notification sent while the window was in the background, the next time the window gains focus
 * (most likely because the notification was clicked) goes to the screen, if a call still waits.
 */
export class FocusRoute {
  private armed = false;

  /** A notification was sent; `windowFocused` says whether the user was looking at the app. */
  notified(windowFocused: boolean): void {
    if (!windowFocused) this.armed = true;
  }

  /** The screen was opened by other means: nothing left to do. */
  disarm(): void {
    this.armed = false;
  }

  /** The window gained focus: whether to open the screen now. */
  focused(stillPending: boolean): boolean {
    const go = this.armed && stillPending;
    this.armed = false;
    return go;
  }
}
