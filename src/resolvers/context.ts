import DataLoader from 'dataloader';
import type { LiveHub } from '../events/live-hub.js';
import type { Services, Caller } from '../services/index.js';
import type { Page, PageRequest } from '../services/pagination.js';
import type { ClientCertificateView, ConnectionAttemptView, DeviceView } from '../services/views.js';

/** Loaders batch the field resolvers of one request: one query per field per page, not per parent. */
export interface Loaders {
  device: DataLoader<number, DeviceView | undefined>;
  certificates: DataLoader<number, ClientCertificateView[]>;
  /** One loader per page shape (way, size, cursor), since each shape is its own batched query. */
  history(page: PageRequest): DataLoader<number, Page<ConnectionAttemptView>>;
}

export interface GraphQLContext {
  caller: Caller;
  services: Services;
  loaders: Loaders;
  live: LiveHub;
}

/** createLoaders makes fresh loaders for one request, so nothing is cached across callers. */
export function createLoaders(services: Services): Loaders {
  const histories = new Map<string, DataLoader<number, Page<ConnectionAttemptView>>>();
  return {
    device: new DataLoader(async (ids) => {
      const found = await services.devices.loadDevices(ids);
      return ids.map((id) => found.get(id));
    }),
    certificates: new DataLoader(async (ids) => {
      const found = await services.devices.loadCertificates(ids);
      return ids.map((id) => found.get(id) ?? []);
    }),
    history(page) {
      const key = `${page.backward ? 'last' : 'first'}:${page.size}:${page.cursorId ?? ''}`;
      let loader = histories.get(key);
      if (!loader) {
        loader = new DataLoader(async (ids) => {
          const pages = await services.devices.loadConnectionHistories(ids, page);
          return ids.map((id) => pages.get(id)!);
        });
        histories.set(key, loader);
      }
      return loader;
    },
  };
}
