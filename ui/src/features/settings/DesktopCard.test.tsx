import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { Autostart } from "../../bindings/Autostart";
import { ToastProvider } from "../../state/ToastProvider";
import { DesktopCard } from "./DesktopCard";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  autostartStatus: vi.fn(),
  autostartSet: vi.fn(),
}));

const api = await import("../../api/client");

const LOCATION = "/home/me/.config/autostart/Brokerdesk.desktop";
const OFF: Autostart = { enabled: false, available: true, location: LOCATION };
const ON: Autostart = { ...OFF, enabled: true };

const renderCard = () =>
  render(
    <ToastProvider>
      <DesktopCard />
    </ToastProvider>,
  );

const theSwitch = () => screen.findByRole<HTMLInputElement>("switch", { name: "Start Brokerdesk when I log in" });

afterEach(() => vi.clearAllMocks());

describe("Settings → Desktop", () => {
  it("shows the OS's state, off by default, with where the OS keeps it", async () => {
    vi.mocked(api.autostartStatus).mockResolvedValue(OFF);
    renderCard();
    const sw = await theSwitch();
    expect(sw.checked).toBe(false);
    expect(screen.getByTestId("autostart-location").textContent).toBe(LOCATION);
    expect(screen.getByText(/starts hidden in the tray/)).toBeTruthy();
    expect(api.autostartSet).not.toHaveBeenCalled();
  });

  it("turns it on only when the switch is used, and shows what the OS has afterwards", async () => {
    vi.mocked(api.autostartStatus).mockResolvedValue(OFF);
    vi.mocked(api.autostartSet).mockResolvedValue(ON);
    renderCard();
    fireEvent.click(await theSwitch());
    await waitFor(async () => expect((await theSwitch()).checked).toBe(true));
    expect(api.autostartSet).toHaveBeenCalledExactlyOnceWith(true);
    expect(await screen.findByText("Brokerdesk will start when you log in, hidden in the tray.")).toBeTruthy();
  });

  it("a refused change says why and re-reads the OS's state", async () => {
    vi.mocked(api.autostartStatus).mockResolvedValue(OFF);
    vi.mocked(api.autostartSet).mockRejectedValue(new BrokerdeskError("autostart_failed", "could not turn on starting at login: permission denied"));
    renderCard();
    fireEvent.click(await theSwitch());
    expect((await screen.findByRole("alert")).textContent).toBe("Could not turn on starting at login: permission denied.");
    await waitFor(() => expect(api.autostartStatus).toHaveBeenCalledTimes(2));
    expect((await theSwitch()).checked).toBe(false);
  });

  it("a surface without the mechanism shows the switch disabled and says why", async () => {
    vi.mocked(api.autostartStatus).mockResolvedValue({ enabled: false, available: false, location: "this surface cannot start at login" });
    renderCard();
    const sw = await theSwitch();
    expect(sw.disabled).toBe(true);
    expect(screen.getByTestId("autostart-location").textContent).toBe("this surface cannot start at login");
  });
});
