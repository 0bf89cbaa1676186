/**
 * Provides IAinSettings: the extension's settings (schema/settings.json) read through the setting registry and
 * kept current, so the chain, the wallet and the picker always use what the user (or `ain dev`) configured.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ISignal, Signal } from '@lumino/signaling';
import { IAinSettings, IAinSettingsValues } from './tokens.js';

/** The settings plugin's id: also the key of its section in JupyterLab's overrides.json. */
export const SETTINGS_PLUGIN_ID = 'jupyterlab-ain:settings';

export const settingsPlugin: JupyterFrontEndPlugin<IAinSettings> = {
  id: SETTINGS_PLUGIN_ID,
  description:
    'The AI Network settings: chain, contracts, wallet, budget, checkpoint and tolerance defaults.',
  autoStart: true,
  requires: [ISettingRegistry],
  provides: IAinSettings,
  activate: activateSettings
};

/** The defaults of schema/settings.json, used until the registry answers and for missing fields. */
export const DEFAULT_SETTINGS: IAinSettingsValues = {
  rpcUrl: 'http://127.0.0.1:8545',
  chainId: 31337,
  contracts: { token: '', providerRegistry: '', runRegistry: '' },
  deploymentBlock: 0,
  walletMode: 'injected',
  developmentKey: '',
  defaultBudget: '1',
  checkpointEveryReceipts: 10,
  checkpointEverySeconds: 60,
  rtol: 1e-5,
  atol: 1e-8
};

/** Reads settings values from a composite settings object, falling back to the defaults field by field. */
export function readSettings(
  composite: Partial<Record<keyof IAinSettingsValues, unknown>>
): IAinSettingsValues {
  const pick = <K extends keyof IAinSettingsValues>(key: K): IAinSettingsValues[K] => {
    const v = composite[key];
    return (v === undefined || v === null ? DEFAULT_SETTINGS[key] : v) as IAinSettingsValues[K];
  };
  return {
    rpcUrl: pick('rpcUrl'),
    chainId: pick('chainId'),
    contracts: { ...DEFAULT_SETTINGS.contracts, ...(pick('contracts') as object) },
    deploymentBlock: pick('deploymentBlock'),
    walletMode: pick('walletMode'),
    developmentKey: pick('developmentKey'),
    defaultBudget: pick('defaultBudget'),
    checkpointEveryReceipts: pick('checkpointEveryReceipts'),
    checkpointEverySeconds: pick('checkpointEverySeconds'),
    rtol: pick('rtol'),
    atol: pick('atol')
  };
}

/** IAinSettings over a loaded ISettingRegistry.ISettings. */
class AinSettings implements IAinSettings {
  private _values: IAinSettingsValues = DEFAULT_SETTINGS;
  private readonly _changed = new Signal<IAinSettings, IAinSettingsValues>(this);

  get values(): IAinSettingsValues {
    return this._values;
  }

  get changed(): ISignal<IAinSettings, IAinSettingsValues> {
    return this._changed;
  }

  /** Follows `settings` from now on. */
  follow(settings: ISettingRegistry.ISettings): void {
    const update = () => {
      this._values = readSettings(settings.composite as Record<string, unknown>);
      this._changed.emit(this._values);
    };
    settings.changed.connect(update);
    update();
  }
}

async function activateSettings(_app: JupyterFrontEnd, registry: ISettingRegistry): Promise<IAinSettings> {
  const settings = new AinSettings();
  try {
    settings.follow(await registry.load(SETTINGS_PLUGIN_ID));
  } catch (e) {
    // The defaults still work for a local chain; the chain plugin names what is missing when it is used.
    console.warn(
      `jupyterlab-ain: cannot load ${SETTINGS_PLUGIN_ID}, using defaults: ${(e as Error).message}`
    );
  }
  return settings;
}
