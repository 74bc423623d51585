// The request error as the lab's Codable reference path (EdgeControllerLab) raises it: the same
// type and reasons as the live path's, without making its initializer public API.
import EdgeAPI

extension ExtenderRequestError {
    package static func invalid(_ reason: String) -> ExtenderRequestError {
        ExtenderRequestError(reason: reason)
    }
}
