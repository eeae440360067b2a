// The signed-in session as React context: the credentials, the region shown, and the clients for
// them. Changing region keeps the key; signing out forgets both and every cached query.
import type { EC2Client } from "@aws-sdk/client-ec2";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { dropClients, ec2Client } from "../api/clients.ts";
import { type Credentials, loadSession, type Session, saveSession } from "../api/session.ts";

interface SessionValue {
  session: Session | undefined;
  signIn(s: Session): void;
  signOut(): void;
  setRegion(region: string): void;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const queries = useQueryClient();
  const signIn = useCallback((s: Session) => {
    saveSession(s);
    setSession(s);
  }, []);
  const signOut = useCallback(() => {
    saveSession(undefined);
    dropClients();
    queries.clear();
    setSession(undefined);
  }, [queries]);
  const setRegion = useCallback((region: string) => {
    setSession((s) => {
      if (!s) return s;
      const next = { ...s, region };
      saveSession(next);
      return next;
    });
  }, []);
  const value = useMemo(
    () => ({ session, signIn, signOut, setRegion }),
    [session, signIn, signOut, setRegion],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSessionState outside SessionProvider");
  return v;
}

/** The signed-in session (pages render only when there is one). */
export function useSession(): Session & { credentials: Credentials } {
  const { session } = useSessionState();
  if (!session) throw new Error("not signed in");
  return session;
}

/** The EC2 client of the session's region, or of another region (copies, region views). */
export function useEc2(region?: string): EC2Client {
  const s = useSession();
  return ec2Client(s.credentials, region ?? s.region);
}
