// Setup of the component tests (jsdom): what jsdom lacks and the components use.

// `bind:clientHeight` (VirtualList) observes the element's size; jsdom has no layout, so nothing to report.
class NoResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
globalThis.ResizeObserver ??= NoResizeObserver as unknown as typeof ResizeObserver;
