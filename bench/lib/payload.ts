/** The request body every HTTP scenario sends: a GitHub-like push event of about 575 bytes. */

const event = {
  ref: 'refs/heads/main',
  before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
  after: '59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5',
  repository: { id: 186853002, name: 'webhooks', full_name: 'acme/webhooks', private: false, default_branch: 'main' },
  sender: { login: 'octocat', id: 583231, type: 'User', site_admin: false },
  head_commit: {
    id: '59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5',
    message: 'Update README.md: the new configuration section',
    timestamp: '2026-11-24T05:51:41Z',
    added: [],
    removed: [],
    modified: ['README.md'],
  },
  created: false,
  deleted: false,
  forced: false,
};

export const PAYLOAD = JSON.stringify(event);
