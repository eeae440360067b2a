// Flash messages at the top of every page, as the AWS console shows results and API errors.
import Flashbar, { type FlashbarProps } from "@cloudscape-design/components/flashbar";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { errorText } from "../api/errors.ts";

interface Notice {
  type: "success" | "error" | "info" | "warning";
  header?: string;
  content?: ReactNode;
}

interface NotifyValue {
  items: FlashbarProps.MessageDefinition[];
  notify(n: Notice): void;
  /** An API error, shown with its code and message. */
  fail(header: string, e: unknown): void;
}

const NotifyContext = createContext<NotifyValue | undefined>(undefined);
let counter = 0;

export function NotificationsProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<FlashbarProps.MessageDefinition[]>([]);
  const notify = useCallback((n: Notice) => {
    const id = `n${++counter}`;
    const dismiss = () => setItems((all) => all.filter((i) => i.id !== id));
    setItems((all) => [
      { ...n, id, dismissible: true, dismissLabel: "Dismiss message", onDismiss: dismiss },
      ...all.slice(0, 4),
    ]);
  }, []);
  const fail = useCallback(
    (header: string, e: unknown) => notify({ type: "error", header, content: errorText(e) }),
    [notify],
  );
  const value = useMemo(() => ({ items, notify, fail }), [items, notify, fail]);
  return <NotifyContext.Provider value={value}>{children}</NotifyContext.Provider>;
}

export function useNotify(): Pick<NotifyValue, "notify" | "fail"> {
  const v = useContext(NotifyContext);
  if (!v) throw new Error("useNotify outside NotificationsProvider");
  return v;
}

export function Notifications() {
  const v = useContext(NotifyContext);
  return <Flashbar items={v?.items ?? []} stackItems={false} i18nStrings={{ ariaLabel: "Notifications" }} />;
}
