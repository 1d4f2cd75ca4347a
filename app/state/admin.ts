import { create } from 'zustand';

// What the server tells an admin's /ws socket of the admin side: the open dead letters
// ({type:'deadLetters', open}, protocol.md), for the Admin tab's count.

interface AdminState {
  /** Undefined until the socket has said it (the tab then asks the Health route). */
  openLetters: number | undefined;
  setOpenLetters(open: number | undefined): void;
}

export const useAdmin = create<AdminState>((set) => ({
  openLetters: undefined,
  setOpenLetters: (openLetters) => set({ openLetters }),
}));
