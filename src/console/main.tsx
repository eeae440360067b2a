// The Strata web console: a client of the daemon's public EC2/STS APIs, served at /console/.
import "@cloudscape-design/global-styles/index.css";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app/App.tsx";
import { BASE } from "./app/navigation.ts";
import { NotificationsProvider } from "./app/notifications.tsx";
import { SessionProvider } from "./app/session-context.tsx";

const queries = new QueryClient({
  defaultOptions: {
    // API errors are shown, not retried away; the SDK already retries throttling and 5xx.
    queries: { retry: false, refetchOnWindowFocus: false },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <BrowserRouter basename={BASE}>
        <NotificationsProvider>
          <SessionProvider>
            <App />
          </SessionProvider>
        </NotificationsProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
