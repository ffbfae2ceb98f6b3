// New-alert notifications: the native notification plugin in the desktop app, the Notification
// API in a browser. Permission is asked once, when the user turns notifications on.
import { isDesktop } from './api';
import type { Alert } from './types';

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
