// A household's tariff and alert thresholds as the routes use them: what it
// stored, or the defaults where it stored nothing.

import { DEFAULT_TARIFF, NO_ALERTS, type AlertSettings, type Tariff } from '../dashboard';
import type { SettingsStore } from '../store';

export async function tariffOf(settings: SettingsStore, householdId: string): Promise<{ tariff: Tariff; stored: boolean }> {
  const text = await settings.tariff(householdId);
  return text ? { tariff: JSON.parse(text) as Tariff, stored: true } : { tariff: DEFAULT_TARIFF, stored: false };
}

export async function alertSettingsOf(settings: SettingsStore, householdId: string): Promise<{ settings: AlertSettings; stored: boolean }> {
  const text = await settings.alertSettings(householdId);
  return text ? { settings: JSON.parse(text) as AlertSettings, stored: true } : { settings: NO_ALERTS, stored: false };
}
