// uPlot draws on a canvas, which jsdom lacks: screens with a chart are tested over this stand-in
// (`vi.mock('uplot', () => import('../test/uplot'))`); the charts themselves are tested in the browser.
export default class {
  static paths = {};
  over = document.createElement('div');
  setData() {}
  setSize() {}
  destroy() {}
}
