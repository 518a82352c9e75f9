/** The store's shape: one zustand store made of slices, one per concern. */
import type { StateCreator } from 'zustand/vanilla';
import type { CollectionSlice } from './slices/collection.js';
import type { DiffMovesSlice } from './slices/diff-moves.js';
import type { DiffRowsSlice } from './slices/diff-rows.js';
import type { FoldersSlice } from './slices/folders.js';
import type { IdentitySlice } from './slices/identity.js';
import type { NoticesSlice } from './slices/notices.js';
import type { PeersSlice } from './slices/peers.js';
import type { ServerSlice } from './slices/server.js';
import type { SignersSlice } from './slices/signers.js';
import type { TransfersSlice } from './slices/transfers.js';
import type { TrustSlice } from './slices/trust.js';
import type { UiSlice } from './slices/ui.js';

export type AppState = CollectionSlice &
  FoldersSlice &
  PeersSlice &
  TransfersSlice &
  ServerSlice &
  IdentitySlice &
  TrustSlice &
  SignersSlice &
  DiffRowsSlice &
  DiffMovesSlice &
  UiSlice &
  NoticesSlice;

export type SliceCreator<T> = StateCreator<AppState, [], [], T>;

/** A user-facing message from a failed call, or null. */
export type ErrorText = string | null;
