import { create } from 'zustand';

export type View =
  | 'trade'
  | 'monitor'
  | 'watchlists'
  | 'alerts'
  | 'assistant'
  | 'risk'
  | 'admin'
  | 'settings';
/** The admin screen's sub-screens (app/admin/). */
export type AdminSection = 'users' | 'accounts' | 'costs' | 'deadLetters' | 'audit' | 'health';

interface UiState {
  view: View;
  /** The instrument the ticket and the chart follow. */
  ticker: string | undefined;
  /** Bumped by F2/F3 and row clicks: the ticket takes focus with that side. */
  ticketRequest: { side: 'buy' | 'sell'; at: number } | undefined;
  adminSection: AdminSection;
  /** The account the Risk screen opens on (the Accounts screen's link to it). */
  riskAccount: string | undefined;
  /** The order whose details the blotter opens (a notification's link to it). */
  openOrder: number | undefined;
  setView(view: View): void;
  selectTicker(ticker: string): void;
  openTicket(side: 'buy' | 'sell'): void;
  setAdminSection(section: AdminSection): void;
  showRisk(account: string): void;
  showOrder(id: number): void;
}

export const useUi = create<UiState>((set) => ({
  // Phones open on the monitoring view; desktops on the trading view.
  view: typeof matchMedia === 'function' && matchMedia('(max-width: 720px)').matches ? 'monitor' : 'trade',
  ticker: undefined,
  ticketRequest: undefined,
  adminSection: 'users',
  riskAccount: undefined,
  openOrder: undefined,
  setView: (view) => set({ view }),
  selectTicker: (ticker) => set({ ticker }),
  openTicket: (side) => set({ ticketRequest: { side, at: Date.now() }, view: 'trade' }),
  setAdminSection: (adminSection) => set({ adminSection }),
  showRisk: (riskAccount) => set({ riskAccount, view: 'risk' }),
  showOrder: (openOrder) => set({ openOrder, view: 'trade' }),
}));
