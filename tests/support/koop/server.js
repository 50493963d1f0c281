// Koop on 127.0.0.1 serving one GeoJSON file (CRS84) as FeatureServer layer 0 for the fetch tests.
// Usage: node server.js PORT FILE.geojson ID_FIELD MAX_RECORD_COUNT
// The provider is the smallest Koop knows: it hands the whole file to Koop, which does the
// paging, filtering and reprojection (outSR) itself, as a real Koop deployment does.
const fs = require('fs');
const Koop = require('@koopjs/koop-core');

const [port, file, idField, maxRecordCount] = process.argv.slice(2);
const collection = JSON.parse(fs.readFileSync(file, 'utf8'));

class Model {
  async getData(req, callback) {
    callback(null, {
      ...collection,
      metadata: {
        name: 'bestand',
        idField,
        geometryType: 'Polygon',
        maxRecordCount: Number(maxRecordCount || 2000),
      },
    });
  }
}

const koop = new Koop({ logLevel: 'error' });
koop.register({ name: 'bestand', type: 'provider', version: '1.0.0', Model, disableIdParam: true });
koop.server.listen(Number(port), '127.0.0.1', () => console.log(`koop listening on ${port}`));
