// composition root: filled in by the service's issue
export {};
