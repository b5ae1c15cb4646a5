// Copies the browser libraries from node_modules into the pages app's static files.
// The output is committed, so serving the pages needs only Python; run after changing package.json:
//   cd frontend && npm ci && npm run vendor
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const target = join(here, "..", "analytics", "pages", "static", "pages", "vendor");

const files = {
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  "chart.js/LICENSE.md": "LICENSE-chart.js.md",
  "leaflet/dist/leaflet.js": "leaflet.js",
  "leaflet/dist/leaflet.css": "leaflet.css",
  "leaflet/dist/images/layers.png": "images/layers.png",
  "leaflet/dist/images/layers-2x.png": "images/layers-2x.png",
  "leaflet/dist/images/marker-icon.png": "images/marker-icon.png",
  "leaflet/dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
  "leaflet/dist/images/marker-shadow.png": "images/marker-shadow.png",
  "leaflet/LICENSE": "LICENSE-leaflet",
  "topojson-client/dist/topojson-client.min.js": "topojson-client.min.js",
  "topojson-client/LICENSE": "LICENSE-topojson-client",
  "world-atlas/countries-50m.json": "countries-50m.json",
  "world-atlas/LICENSE": "LICENSE-world-atlas",
  "us-atlas/states-10m.json": "us-states-10m.json",
  "us-atlas/LICENSE": "LICENSE-us-atlas",
};

rmSync(target, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const destination = join(target, to);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(join(modules, from), destination);
  console.log(`${from} -> ${to}`);
}
